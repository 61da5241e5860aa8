"""`rune run`: flags that feed capabilities, repeats, streaming, and the output formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import PERSON_DETECTION_SCORES, ROOT, rune_cli, shared_data



def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


def test_sound_flag_and_json(built_examples):
    result = rune_cli("run", built_examples["micro_speech"], "--sound", shared_data() / "audio" / "yes_1000ms.wav", "--json")
    assert result.returncode == 0, result.stderr
    label, scores = json_lines(result.stdout)
    assert label == {"type_name": "utf8", "channel": 0, "elements": ["yes"], "dimensions": [1]}
    assert scores["type_name"] == "i8" and scores["dimensions"] == [1, 4]


def test_named_capability_and_human_output(built_examples):
    result = rune_cli("run", built_examples["person_detection"], "--capability",
                  f"image:{shared_data() / 'images' / 'no_person.png'}")
    assert result.returncode == 0, result.stderr
    no, yes = PERSON_DETECTION_SCORES["no_person.png"]
    assert result.stdout.splitlines() == ["[0] label utf8[1]: no person",
                                          f"[1] detect i8[1, 2]: no person={no}, person={yes}"]


def test_random_seed_repeats_and_engines(built_examples):
    runs = [rune_cli("run", built_examples["sine"], "--random", "7", "--repeat", "3", "--json", "--engine", engine).stdout
            for engine in ("wasmtime", "wasm3", "wasmtime")]
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0].splitlines()) == 6


def test_a_long_recording_is_streamed_in_windows(built_examples, tmp_path):
    from scipy.io import wavfile

    clips = [wavfile.read(shared_data() / "audio" / f"{name}_1000ms.wav")[1] for name in ("yes", "no", "silence")]
    wavfile.write(tmp_path / "long.wav", 16000, np.concatenate(clips))
    result = rune_cli("run", built_examples["micro_speech"], "--sound", tmp_path / "long.wav", "--stride-ms", "1000",
                  "--json")
    assert result.returncode == 0, result.stderr
    labels = [line["elements"][0] for line in json_lines(result.stdout) if line["channel"] == 0]
    assert labels == ["yes", "no", "silence"]


def test_source_problems_are_user_errors(built_examples, tmp_path):
    missing = rune_cli("run", built_examples["micro_speech"])
    assert missing.returncode == 2
    assert "capability 'audio' (SOUND) has no source" in missing.stderr and "--sound FILE.wav" in missing.stderr
    extra = rune_cli("run", built_examples["micro_speech"], "--sound", "a.wav", "--sound", "b.wav")
    assert extra.returncode == 2 and "2 --sound file(s) given, but the rune has 1 SOUND capability" in extra.stderr
    (tmp_path / "bad.wav").write_text("not audio")
    bad = rune_cli("run", built_examples["micro_speech"], "--sound", tmp_path / "bad.wav")
    assert bad.returncode == 2 and "is not a readable WAV file" in bad.stderr and "Traceback" not in bad.stderr


def test_running_a_runefile_says_to_build_it_first(tmp_path):
    for path in (ROOT / "examples" / "sine", ROOT / "examples" / "sine" / "Runefile.yml"):
        result = rune_cli("run", path)
        assert result.returncode == 2 and f"build it first: rune build {path}" in result.stderr
    (tmp_path / "notes.txt").write_text("hello")
    run, inspect = (rune_cli(command, tmp_path / "notes.txt") for command in ("run", "inspect"))
    assert run.returncode == inspect.returncode == 2 and run.stderr == inspect.stderr
    assert "notes.txt is not a valid .rune: not a WebAssembly module" in run.stderr


def test_a_rune_is_known_by_its_content_not_its_name(built_examples, tmp_path):
    (tmp_path / "sine.bin").write_bytes(built_examples["sine"].read_bytes())
    result = rune_cli("run", tmp_path / "sine.bin", "--random", "1", "--json")
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 2


def test_flags_that_feed_nothing_are_warned_about(built_examples):
    result = rune_cli("run", built_examples["person_detection"], "--image", shared_data() / "images" / "person.png",
                  "--random", "5", "--stride-ms", "500")
    assert result.returncode == 0, result.stderr
    assert "warning: --random 5 is ignored: the rune has no RAND capability" in result.stderr
    assert "warning: --stride-ms 500 is ignored: it streams a recording, and the rune has no SOUND capability" \
        in result.stderr


def test_stride_ms_without_a_recording_says_why_it_is_ignored():
    from rune.runtime.source_flags import sources_from_flags
    from rune.runtime.sources import CapabilitySpec

    sound = CapabilitySpec(0, "audio", "SOUND", {"hz": 16000, "sample_duration_ms": 1000}, "i16", (16000,), 32000)
    rand = CapabilitySpec(0, "rand", "RAND", {}, "f32", (1,), 4)
    for capabilities, why in (([sound], "no SOUND capability was given a recording"),
                              ([rand], "the rune has no SOUND capability")):
        warnings = []
        sources_from_flags(capabilities, {}, [], None, stride_ms=20, warn=warnings.append)
        assert warnings == [f"--stride-ms 20 is ignored: it streams a recording, and {why}"]


def test_missing_and_damaged_inputs_name_the_capability(built_examples, tmp_path):
    missing = rune_cli("run", built_examples["micro_speech"], "--sound", tmp_path / "nowhere.wav")
    assert missing.returncode == 2
    assert f"stage 'audio': {tmp_path / 'nowhere.wav'} does not exist" in missing.stderr
    assert "--sound" in missing.stderr and "SOUND capability 'audio'" in missing.stderr
    (tmp_path / "cut.wav").write_bytes((shared_data() / "audio" / "yes_1000ms.wav").read_bytes()[:30])
    cut = rune_cli("run", built_examples["micro_speech"], "--sound", tmp_path / "cut.wav")
    assert cut.returncode == 2 and "cut.wav is not a readable WAV file" in cut.stderr
    assert "stage 'audio'" in cut.stderr and "internal error" not in cut.stderr and "Traceback" not in cut.stderr


def test_a_short_recording_is_padded_with_a_warning(built_examples, tmp_path):
    from scipy.io import wavfile

    rate, samples = wavfile.read(shared_data() / "audio" / "yes_1000ms.wav")
    wavfile.write(tmp_path / "short.wav", rate, samples[:4000])
    result = rune_cli("run", built_examples["micro_speech"], "--sound", tmp_path / "short.wav")
    assert result.returncode == 0, result.stderr
    assert "warning: " in result.stderr and "short.wav holds 250 ms of audio; capability 'audio' takes 1000 ms, " \
                                           "so 750 ms of silence were added" in result.stderr


def test_a_corrupted_manifest_is_a_user_error(built_examples, tmp_path):
    data = built_examples["micro_speech"].read_bytes()
    position = data.rindex(b'"hz":16000')
    (tmp_path / "edited.rune").write_bytes(data[:position] + b'"hz":"160"' + data[position + 10:])
    for command in ("run", "inspect"):
        result = rune_cli(command, tmp_path / "edited.rune")
        assert result.returncode == 2, result.stderr
        assert "has a corrupted manifest: capabilities[0].args.hz: '160' is not of type 'integer'" in result.stderr
        assert "rune build" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("limit", ["inf", "nan", "1e308", "0"])
def test_a_time_limit_that_could_never_pass_is_refused(built_examples, limit):
    result = rune_cli("run", built_examples["sine"], "--random", "1", "--timeout", limit)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--timeout'" in result.stderr and result.stdout == ""


def test_the_runtime_refuses_such_a_limit_too(built_examples):
    from rune.runtime import Runtime

    for limit in (float("inf"), float("nan"), 0.0):
        with pytest.raises(ValueError, match="the time limit must be more than 0 and at most 86400 seconds"):
            Runtime.load(built_examples["sine"], timeout=limit)


def test_a_capability_fed_twice_says_which_flag_already_feeds_it(built_examples):
    audio = shared_data() / "audio"
    result = rune_cli("run", built_examples["micro_speech"], "--sound", audio / "yes_1000ms.wav",
                      "--capability", f"audio:{audio / 'no_1000ms.wav'}")
    assert result.returncode == 2
    assert "but the rune has 0 SOUND capabilities without a source (--capability feeds 'audio')" in result.stderr
