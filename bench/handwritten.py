"""The examples' pipelines written by hand in Python (numpy + the tflite-micro interpreter): what
a developer would write without Rune. bench/host.py times Rune against these."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from tflite_micro import runtime

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"


class Sine:
    def __init__(self):
        self.model = runtime.Interpreter.from_file(str(EXAMPLES / "sine" / "sine.tflite"))
        self.rng = np.random.default_rng(1)

    def __call__(self):
        x = np.float32(math.fmod(self.rng.uniform(0, 100), 2 * math.pi))
        self.model.set_input(np.array([[x]], np.float32), 0)
        self.model.invoke()
        return x, self.model.get_output(0)


class MicroSpeechWithTflmFeatures:
    """Features from TFLM's own audio preprocessor model, as TFLM's micro_speech example does."""

    LABELS = ["silence", "unknown", "yes", "no"]

    def __init__(self, wav: Path):
        from scipy.io import wavfile

        self.audio = wavfile.read(wav)[1]
        self.preprocessor = runtime.Interpreter.from_file(str(SHARED / "models" / "audio_preprocessor_int8.tflite"))
        self.model = runtime.Interpreter.from_file(str(EXAMPLES / "micro_speech" / "model.tflite"))

    def __call__(self):
        self.preprocessor.reset()
        features = np.empty((49, 40), np.int8)
        for i in range(49):
            self.preprocessor.set_input(self.audio[i * 320:i * 320 + 480].reshape(1, 480), 0)
            self.preprocessor.invoke()
            features[i] = self.preprocessor.get_output(0)
        self.model.set_input(features.reshape(1, 1960), 0)
        self.model.invoke()
        scores = self.model.get_output(0)
        return self.LABELS[int(np.argmax(scores))], scores


class MicroSpeechWithNumpyFeatures(MicroSpeechWithTflmFeatures):
    """Features computed with numpy (Rune's own bit-exact reference of the same front end)."""

    def __init__(self, wav: Path):
        super().__init__(wav)
        import sys

        sys.path.insert(0, str(ROOT / "proc_blocks" / "lib" / "audio_frontend"))
        import frontend

        self.frontend = frontend

    def __call__(self):
        features = self.frontend.features(self.audio)
        self.model.set_input(features.reshape(1, 1960), 0)
        self.model.invoke()
        scores = self.model.get_output(0)
        return self.LABELS[int(np.argmax(scores))], scores


class PersonDetection:
    LABELS = ["no person", "person"]

    def __init__(self, image: Path):
        from PIL import Image

        # Shrunk by area averaging, as Rune's ImageSource does (not timed: the picture is read once).
        pixels = np.asarray(Image.open(image).convert("L").resize((96, 96), Image.BOX), np.int16)
        self.pixels = (pixels - 128).astype(np.int8).reshape(1, 96, 96, 1)
        self.model = runtime.Interpreter.from_file(str(EXAMPLES / "person_detection" / "model.tflite"))

    def __call__(self):
        self.model.set_input(self.pixels, 0)
        self.model.invoke()
        scores = self.model.get_output(0)
        return self.LABELS[int(np.argmax(scores))], scores
