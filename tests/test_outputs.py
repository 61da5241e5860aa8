"""The canonical SERIAL JSON line (docs/abi.md, "Outputs")."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rune.runtime.host import Host
from rune.runtime.outputs import Output, decode_text, format_float, human, json_line, score_labels


def test_key_order_and_spacing():
    line = json_line("f32", 2, np.array([[0.486]], np.float32), [1, 1])
    assert line == '{"type_name":"f32","channel":2,"elements":[0.486],"dimensions":[1,1]}'


def test_floats_use_the_fewest_digits_that_read_back():
    assert format_float(float(np.float32(0.1)), 9, True) == "0.1"
    assert format_float(float(np.float32(1 / 3)), 9, True) == "0.33333334"
    assert format_float(float(np.float32(16777217)), 9, True) == "16777216"
    assert format_float(1e-7, 17, False) == "1e-07"
    assert format_float(-0.0, 9, True) == "-0"
    assert format_float(float("nan"), 9, True) == '"NaN"'
    assert format_float(float("-inf"), 9, True) == '"-Infinity"'


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_f32_round_trips(value):
    text = format_float(value, 9, True)
    assert np.float32(float(text)) == np.float32(value)
    assert len(text.replace("-", "").replace(".", "").split("e")[0].lstrip("0") or "0") <= 9


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_f64_round_trips(value):
    assert float(format_float(value, 17, False)) == value


def test_every_line_is_valid_json():
    values = np.array([np.nan, np.inf, 1.5, -2], np.float32)
    line = json.loads(json_line("f32", 0, values, [4]))
    assert line["elements"] == ["NaN", "Infinity", 1.5, -2]
    assert json.loads(json_line("u64", 1, np.array([2**64 - 1], np.uint64), [1]))["elements"] == [2**64 - 1]


def test_strings_are_escaped_and_invalid_bytes_replaced_one_by_one():
    text = decode_text(b"ok \xff\xfe caf\xc3\xa9")
    assert text == "ok \ufffd\ufffd caf\u00e9"
    line = json_line("utf8", 0, ['a "quote"\n', "tab\there", "\x01"], [3])
    assert line == '{"type_name":"utf8","channel":0,"elements":["a \\"quote\\"\\n","tab\\there","\\u0001"],' \
                   '"dimensions":[3]}'


class _Memory:
    def __init__(self, data: bytes):
        self.data, self.size = data, len(data)

    def read(self, address: int, length: int) -> bytes:
        return self.data[address:address + length]


def test_outputs_from_raw_bytes():
    entry = {"channel": 0, "stage": "serial", "source": {"stage": "m", "output": 0}, "type": "i16",
             "dimensions": [2, 2], "bytes": 8}
    host = Host({"capabilities": [], "models": [], "outputs": [entry]}, capability_data=None, models=[])
    host.begin_call()
    assert host.output_write(_Memory(b"\0" * 4 + np.array([1, -2, 3, -4], "<i2").tobytes()), 0, 4, 8) == 0, host.error
    [output] = host.outputs
    assert output.value.tolist() == [[1, -2], [3, -4]]
    assert output.json_line() == '{"type_name":"i16","channel":0,"elements":[1,-2,3,-4],"dimensions":[2,2]}'


@pytest.mark.filterwarnings("error")
def test_the_largest_floats_are_written_without_numpy_warnings():
    """Some texts of the largest f32 round past it ("3.403e+38"); converting them back overflowed."""
    largest = np.finfo(np.float32).max
    line = json_line("f32", 0, np.array([largest, -largest, np.float32(1e-45)], np.float32), [3])
    assert json.loads(line)["elements"] == [3.4028235e38, -3.4028235e38, 1e-45]
    assert format_float(float(np.finfo(np.float64).max), 17, False) == "1.7976931348623157e+308"


def _output(value, channel=1, type_name="i8"):
    return Output(channel, "serial", "model", type_name, list(value.shape), value)


def test_human_output_names_scores_by_their_labels():
    scores = np.array([[-128, -128, 127, -128]], np.int8)
    labels = ["silence", "unknown", "yes", "no"]
    assert human(_output(scores), labels=labels) == "[1] model i8[1, 4]: silence=-128, unknown=-128, yes=127, no=-128"
    assert human(_output(scores)) == "[1] model i8[1, 4]: -128 -128 127 -128"
    many = np.arange(12, dtype=np.float32) / 10
    words = [f"w{i}" for i in range(12)]
    assert human(_output(many, type_name="f32"), top=2, labels=words) == \
        "[1] model f32[12]: top 2 of 12: w11=1.1, w10=1"
    assert human(_output(scores), labels=["too", "few"]) == "[1] model i8[1, 4]: -128 -128 127 -128"


def test_human_output_shows_control_characters_as_escapes():
    """A label cannot forge an output line or drive the terminal."""
    strings = Output(0, "serial", "label", "utf8", [2], ["line1\n[1] model i8[1, 4]: forged", "\x1b]0;title\x07é"])
    line = human(strings)
    assert line == "[0] label utf8[2]: line1\\n[1] model i8[1, 4]: forged, \\u001b]0;title\\u0007é"
    assert "\n" not in line and "\x1b" not in line


def test_score_labels_follow_argmax_and_label_stages():
    def stage(name, block=None, inputs=(), labels=None):
        entry = {"name": name, "kind": "proc-block" if block else "model", "target": block or "m.tflite",
                 "inputs": [{"stage": s, "output": 0} for s in inputs], "outputs": []}
        if block:
            entry["block"] = block
        if labels is not None:
            entry["args"] = {"labels": labels}
        return entry

    def out(channel, source, dimensions, type_name="i8"):
        return {"channel": channel, "stage": "serial", "source": {"stage": source, "output": 0}, "type": type_name,
                "dimensions": dimensions}

    manifest = {"stages": [stage("model"), stage("top", "argmax", ["model"]),
                           stage("label", "label", ["top"], ["a", "b", "c"]), stage("other")],
                "outputs": [out(0, "label", [1], "utf8"), out(1, "model", [1, 3]), out(2, "other", [1, 3])]}
    assert score_labels(manifest) == {1: ["a", "b", "c"]}
    manifest["outputs"][1]["dimensions"] = [1, 4]  # more scores than labels: no labels
    assert score_labels(manifest) == {}
    manifest["outputs"][1]["dimensions"] = [3]
    manifest["stages"].append(stage("label2", "label", ["top"], ["x", "y", "z"]))  # two label stages disagree
    assert score_labels(manifest) == {}
