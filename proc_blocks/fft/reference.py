"""numpy reference of the fft block (bit-exact with TFLM's micro_speech front end)."""

import frontend


def run(inputs, args):
    return [frontend.fft(inputs[0].reshape(-1), frontend.fft_params(args))]
