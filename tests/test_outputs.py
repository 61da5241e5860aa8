"""The canonical SERIAL JSON line (docs/abi.md, "Outputs")."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rune.runtime.host import make_output
from rune.runtime.outputs import decode_text, format_float, json_line


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


def test_outputs_from_raw_bytes():
    entry = {"channel": 3, "stage": "serial", "source": {"stage": "m"}, "type": "i16", "dimensions": [2, 2]}
    output = make_output(entry, np.array([1, -2, 3, -4], "<i2").tobytes())
    assert output.value.tolist() == [[1, -2], [3, -4]]
    assert output.json_line() == '{"type_name":"i16","channel":3,"elements":[1,-2,3,-4],"dimensions":[2,2]}'
