"""`rune run`: flags that feed capabilities, repeats, streaming, and the output formats."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from conftest import ROOT, shared_data


def rune(*args):
    return subprocess.run([sys.executable, "-m", "rune", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


def test_sound_flag_and_json(built_examples):
    result = rune("run", built_examples["micro_speech"], "--sound", shared_data() / "audio" / "yes_1000ms.wav", "--json")
    assert result.returncode == 0, result.stderr
    label, scores = json_lines(result.stdout)
    assert label == {"type_name": "utf8", "channel": 0, "elements": ["yes"], "dimensions": [1]}
    assert scores["type_name"] == "i8" and scores["dimensions"] == [1, 4]


def test_named_capability_and_human_output(built_examples):
    result = rune("run", built_examples["person_detection"], "--capability",
                  f"image:{shared_data() / 'images' / 'no_person.png'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "[0] label utf8[1]: no person"


def test_random_seed_repeats_and_engines(built_examples):
    runs = [rune("run", built_examples["sine"], "--random", "7", "--repeat", "3", "--json", "--engine", engine).stdout
            for engine in ("wasmtime", "wasm3", "wasmtime")]
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0].splitlines()) == 6


def test_a_long_recording_is_streamed_in_windows(built_examples, tmp_path):
    from scipy.io import wavfile

    clips = [wavfile.read(shared_data() / "audio" / f"{name}_1000ms.wav")[1] for name in ("yes", "no", "silence")]
    wavfile.write(tmp_path / "long.wav", 16000, np.concatenate(clips))
    result = rune("run", built_examples["micro_speech"], "--sound", tmp_path / "long.wav", "--stride-ms", "1000",
                  "--json")
    assert result.returncode == 0, result.stderr
    labels = [line["elements"][0] for line in json_lines(result.stdout) if line["channel"] == 0]
    assert labels == ["yes", "no", "silence"]


def test_source_problems_are_user_errors(built_examples, tmp_path):
    missing = rune("run", built_examples["micro_speech"])
    assert missing.returncode == 2
    assert "capability 'audio' (SOUND) has no source" in missing.stderr and "--sound FILE.wav" in missing.stderr
    extra = rune("run", built_examples["micro_speech"], "--sound", "a.wav", "--sound", "b.wav")
    assert extra.returncode == 2 and "2 --sound file(s) given, but the rune has 1 SOUND capability" in extra.stderr
    (tmp_path / "bad.wav").write_text("not audio")
    bad = rune("run", built_examples["micro_speech"], "--sound", tmp_path / "bad.wav")
    assert bad.returncode == 2 and "is not a readable WAV file" in bad.stderr and "Traceback" not in bad.stderr


def test_running_a_runefile_says_to_build_it_first():
    result = rune("run", ROOT / "examples" / "sine")
    assert result.returncode == 2 and "rune build" in result.stderr
