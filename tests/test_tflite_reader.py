"""The .tflite reader: facts about the real models, and malformed models are ModelErrors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rune.tflite.model import ModelError, read_model

from conftest import shared_data


def model_bytes(name: str) -> bytes:
    return (shared_data() / "models" / name).read_bytes()


def test_reads_the_real_models():
    person = read_model(model_bytes("person_detect.tflite"))
    assert [t.describe() for t in person.inputs] == ["i8[1, 96, 96, 1]"]
    assert [t.describe() for t in person.outputs] == ["i8[1, 2]"]
    assert person.operator_names == ["AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"]
    assert person.inputs[0].quantization.zero_points == (-1,)
    speech = read_model(model_bytes("micro_speech_quantized.tflite"))
    assert speech.inputs[0].describe() == "i8[1, 1960]" and speech.outputs[0].describe() == "i8[1, 4]"
    lstm = read_model(model_bytes("trained_lstm_int8.tflite"))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in lstm.operator_names
    preprocessor = read_model(model_bytes("audio_preprocessor_int8.tflite"))
    assert "SignalRfft" in preprocessor.operator_names  # custom operators by their custom code


def test_activation_memory_is_planned_below_the_sum_of_tensors():
    info = read_model(model_bytes("person_detect.tflite"))
    total = sum(t.bytes for t in info.tensors if not t.constant_bytes)
    assert 0 < info.activation_bytes < total


@pytest.mark.parametrize("data,message", [
    (b"", "too small"), (b"\0" * 64, "identifier"), (b"\x10\0\0\0TFL3" + b"\xff" * 8, "malformed"),
])
def test_garbage_is_refused(data, message):
    with pytest.raises(ModelError, match=message):
        read_model(data)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["hello_world_int8.tflite", "micro_speech_quantized.tflite", "keyword_scrambled.tflite"]),
       st.data())
def test_corrupted_models_are_model_errors(name, data):
    raw = bytearray(model_bytes(name))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    for _ in range(data.draw(st.integers(0, 16))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        read_model(bytes(raw))
    except ModelError:
        pass
