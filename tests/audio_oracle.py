"""TensorFlow Lite Micro's audio preprocessor as the oracle for the fft and noise_filtering blocks.

`Preprocessor` runs audio_preprocessor_int8.tflite window by window (the features of a clip are:
reset, then its windows in order). `model_for_params` re-parameterises that model, with the same
graph and kernels but another parameter set's constants, options and shapes, so that TFLM itself
judges non-default block arguments.
"""

from __future__ import annotations

import numpy as np

from conftest import shared_data


def preprocessor_bytes() -> bytes:
    return (shared_data() / "models" / "audio_preprocessor_int8.tflite").read_bytes()


def frames_of(pcm: np.ndarray, n: int, length: int, step: int) -> np.ndarray:
    return np.stack([pcm[i * step:i * step + length] for i in range(n)]).astype(np.int16)


class Preprocessor:
    def __init__(self, model: bytes | None = None, length: int = 480, step: int = 320):
        from tflite_micro import runtime

        self.length, self.step = length, step
        self.interpreter = runtime.Interpreter.from_bytes(model or preprocessor_bytes(), arena_size=1 << 20)

    def clip(self, pcm: np.ndarray, reset: bool = True) -> np.ndarray:
        """The features of a clip; reset=False carries the noise estimate over from the last call."""
        if reset:
            self.interpreter.reset()
        n = 1 + (len(pcm) - self.length) // self.step
        features = []
        for window in frames_of(pcm, n, self.length, self.step):
            self.interpreter.set_input(window.reshape(1, self.length), 0)
            self.interpreter.invoke()
            features.append(self.interpreter.get_output(0).copy())
        return np.concatenate(features)


def model_constants() -> dict:
    """The constant tables inside the shipped preprocessor model."""
    model = _model_object(preprocessor_bytes())
    graph = model.subgraphs[0]
    names = {1: "window", 8: "pcan_lut", 9: "fb_widths", 10: "fb_weight_starts", 11: "fb_freq_starts",
             12: "fb_unweights", 13: "fb_weights"}
    return {name: np.frombuffer(bytes(np.asarray(model.buffers[graph.tensors[i].buffer].data, np.uint8)),
                                np.int16).copy() for i, name in names.items()}


def _model_object(data: bytes):
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))


def model_for_params(params, tables) -> bytes:
    """The preprocessor with another parameter set (tensor indices are those of the shipped model)."""
    import flatbuffers
    from flatbuffers import flexbuffers

    p, t = params, tables
    model = _model_object(preprocessor_bytes())
    graph = model.subgraphs[0]
    length, fft_length, channels = p.window_length, p.fft_length, p.num_channels
    spectrum = fft_length // 2 + 1
    start, end = t.start_index, t.end_index

    def constant(index, array, shape=None):
        array = np.ascontiguousarray(array)
        model.buffers[graph.tensors[index].buffer].data = np.frombuffer(array.tobytes(), np.uint8).copy()
        graph.tensors[index].shape = np.array(array.shape if shape is None else shape, np.int32)

    def reshape(index, shape):
        graph.tensors[index].shape = np.array(shape, np.int32)
        graph.tensors[index].shapeSignature = None

    reshape(0, [1, length])
    constant(1, t.window.astype(np.int16))
    reshape(19, [1, length])
    reshape(20, [length])
    reshape(21, [length])
    reshape(23, [fft_length + 2])
    for index in (24, 25, 27, 28):
        reshape(index, [spectrum])
    reshape(26, [end - start])
    constant(3, np.zeros(start, np.int32))
    constant(2, np.zeros(spectrum - end, np.int32))
    constant(7, np.array([start], np.int32))
    constant(6, np.array([end], np.int32))
    constant(13, t.fb_weights.astype(np.int16))
    constant(12, t.fb_unweights.astype(np.int16))
    constant(11, t.fb_freq_starts.astype(np.int16))
    constant(10, t.fb_weight_starts.astype(np.int16))
    constant(9, t.fb_widths.astype(np.int16))
    constant(8, t.pcan_lut.astype(np.int16))
    for index in range(29, 43):
        reshape(index, [channels])
    smoothing, one_minus, alternate, alternate_one_minus, min_signal = p.smoothing_q
    options = {
        0: {"shift": p.window_scaling_bits},
        3: {"T": 7, "fft_length": fft_length},
        4: {"end_index": end, "start_index": start},
        9: {"num_channels": channels},
        11: {"alternate_one_minus_smoothing": alternate_one_minus, "alternate_smoothing": alternate,
             "clamping": bool(p.clamping), "min_signal_remaining": min_signal, "num_channels": channels,
             "one_minus_smoothing": one_minus, "smoothing": smoothing, "smoothing_bits": p.noise_smoothing_bits,
             "spectral_subtraction_bits": p.spectral_subtraction_bits},
        12: {"snr_shift": p.pcan_snr_shift},
        13: {"input_correction_bits": p.correction_bits, "output_scale": 1 << p.log_scale_bits},
    }
    for index, values in options.items():
        graph.operators[index].customOptions = np.frombuffer(flexbuffers.Dumps(values), np.uint8).copy()
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
