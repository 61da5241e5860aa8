"""numpy reference of the audio_float_conversion block."""

import numpy as np


def run(inputs, args):
    return [inputs[0].astype(np.float32) / np.float32(32768.0)]
