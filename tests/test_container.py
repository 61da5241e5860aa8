"""The .rune container and the wasm reader refuse malformed input with a clear error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rune.container import wasm
from rune.container.rune_file import RuneFile, RuneFileError, write_rune


def test_truncated_rune_is_refused(built_examples):
    data = built_examples["sine"].read_bytes()
    for cut in (0, 4, 8, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(RuneFileError):
            RuneFile.from_bytes(data[:cut])


def test_a_changed_model_byte_is_detected(built_examples):
    rune = RuneFile.load(built_examples["sine"])
    offset = rune.model_offset(0) + 100
    data = bytearray(rune.data)
    data[offset] ^= 0xFF
    with pytest.raises(RuneFileError, match="the model of stage 'sine' is corrupted"):
        RuneFile.from_bytes(bytes(data))


def test_a_plain_wasm_module_is_not_a_rune():
    module = wasm.MAGIC + bytes([wasm.TYPE, 1, 0])
    with pytest.raises(RuneFileError, match="not a rune"):
        RuneFile.from_bytes(module)


def test_newer_formats_are_refused_with_advice():
    data = write_rune(wasm.MAGIC, {"format": 99, "models": []}, [], [])
    with pytest.raises(RuneFileError, match="upgrade Rune"):
        RuneFile.from_bytes(data)


def test_unknown_sections_are_skipped(built_examples):
    data = built_examples["sine"].read_bytes()
    extended = data + wasm.custom_section("rune.something-new", b"\x01\x02")
    assert RuneFile.from_bytes(extended).manifest == RuneFile.from_bytes(data).manifest


def test_custom_section_alignment():
    for prefix in range(40):
        module = wasm.MAGIC + wasm.custom_section("x", b"\0" * prefix)
        data, offset = wasm.append_custom_section(module, "rune.model.m", b"MODEL", align=16)
        assert offset % 16 == 0 and data[offset:offset + 5] == b"MODEL"
        assert wasm.custom_sections(data)["rune.model.m"].content_start == offset


def test_manifest_that_is_not_json_is_refused():
    data = wasm.MAGIC + wasm.custom_section("rune.manifest", b"{not json")
    with pytest.raises(RuneFileError, match="corrupted manifest"):
        RuneFile.from_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_runes_never_crash_the_reader(built_examples, data):
    original = bytearray(built_examples["sine"].read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    try:
        rune = RuneFile.from_bytes(bytes(original))
        json.dumps(rune.manifest)
    except RuneFileError:
        pass
