"""Streaming audio features: the fft block with num_frames and noise_filtering after it, against
TensorFlow Lite Micro's audio preprocessor run continuously over the same stream.

Each inference gets only the new audio (20 ms = 320 samples, one new window); the fft block keeps
the last window_length - window_step samples and outputs only the new frames, noise_filtering keeps
its noise estimate (never reset) and its last 49 feature rows. After every chunk, the 49 rows must be
exactly the last 49 frames TFLM's preprocessor gives when it is run window after window over the
stream (480-sample windows every 320 samples, state carried, never reset), the stream preceded by
the samples and frames of digital silence that the zeroed state stands for (docs/audio-features.md,
"Streaming"). Checked for the numpy references, the C compiled natively, and the C inside a rune
run by wasmtime and by wasm3; then examples/micro_speech_streaming on a long recording.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import audio_oracle
import audio_signals
from conftest import EXAMPLES, ArraySource, frontend, rune_cli, wav
from rune.blocks.harness import BlockInstance
from rune.blocks.registry import resolve
from rune.compiler.build import build
from rune.diagnostics import RuneError
from rune.runtime import Runtime
from rune.tensors import ElementType, TensorType

FRAMES = 49


def long_signal() -> np.ndarray:
    """The four recordings, then generated signals: tones, chirps, noise, full-scale square waves,
    clipping, DC at -32768, impulses, the auto-scale quirk of isolated -32768 samples, silence."""
    signals = audio_signals.all_signals()
    generated = ["chirp_lin_20_8000", "white_seed0_std3000", "tone_440Hz_a1000", "square_1000Hz_full",
                 "clip_tone_300Hz_x3", "min_then_small", "silence", "uniform_full_seed12", "dc_-32768",
                 "impulses_pm_full", "white_seed10_std100", "burst_after_silence", "tone_7999Hz_a32767"]
    return np.concatenate([wav(n) for n in ("yes", "no", "silence", "noise")] + [signals[n] for n in generated])


class Expected:
    """What the streaming blocks must give: TFLM's preprocessor run continuously (one interpreter,
    never reset) over the stream preceded by the kept samples' zeros; before the first audio the
    rows are the features of an all-zero window, what TFLM gives for digital silence."""

    def __init__(self, pcm: np.ndarray, params, chunk: int, frames: int, oracle):
        self.params, self.chunk, self.frames = params, chunk, frames
        kept = max(params.window_length - params.window_step, 0)
        self.tflm = oracle.clip(np.concatenate([np.zeros(kept, np.int16), pcm])).reshape(-1, params.num_channels)
        self.silence = oracle.clip(np.zeros(params.window_length, np.int16)).reshape(-1)

    def after(self, run: int) -> np.ndarray:
        """The rows after run `run` (0-based): the last `frames` frames of the stream so far."""
        have = (run + 1) * self.chunk // self.params.window_step
        rows = np.tile(self.silence, (self.frames, 1))
        recent = self.tflm[max(0, have - self.frames):have]
        rows[self.frames - len(recent):] = recent
        return rows.reshape(-1)


def streaming_runefile(chunk: int, frames: int, fft_args: dict | None = None) -> str:
    args = ", ".join(f"{k}: {v}" for k, v in {"frames": frames, **(fft_args or {})}.items())
    return f"""
version: 1
pipeline:
  audio: {{capability: RAW, outputs: [{{type: i16, dimensions: [{chunk}]}}], args: {{length: {chunk}}}}}
  fft: {{proc-block: fft, inputs: [audio], args: {{{args}}}}}
  features: {{proc-block: noise-filtering, inputs: [fft]}}
  serial: {{out: SERIAL, inputs: [features]}}
"""


@pytest.fixture(scope="module")
def streaming_rune(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("streaming")
    (folder / "Runefile.yml").write_text(streaming_runefile(320, FRAMES))
    return build(folder).path


class NativeStream:
    """The two blocks compiled natively, chained, init before the first chunk only."""

    def __init__(self, chunk: int, fft_args: dict, noise_args: dict | None = None):
        self.fft = BlockInstance(resolve("fft", Path(".")).manifest, fft_args, [TensorType(ElementType.I16, (chunk,))])
        self.noise = BlockInstance(resolve("noise_filtering", Path(".")).manifest, noise_args or {}, self.fft.outputs)
        self.fft_native, self.noise_native = self.fft.native(), self.noise.native()
        self.first = True

    def run(self, pcm):
        rows = self.fft_native.run([pcm], init=self.first)[0]
        features = self.noise_native.run([rows], init=self.first)[0]
        self.first = False
        return features


class ReferenceStream:
    """The blocks' numpy references (reference.py), each carrying its state."""

    def __init__(self, native: NativeStream):
        self.fft, self.noise = native.fft, native.noise
        self.fft_state, self.noise_state = {}, {}

    def run(self, pcm):
        rows = self.fft.reference([pcm], self.fft_state)[0]
        return self.noise.reference([rows], self.noise_state)[0]


def test_streaming_blocks_declare_what_they_keep():
    native = NativeStream(320, {"frames": FRAMES})
    fft, noise = native.fft, native.noise
    assert fft.outputs[0].shape == (1, 40)  # only the new frame
    assert fft.outputs[0].attributes == {"fft_length": 512, "num_frames": FRAMES}
    assert noise.args["num_frames"] == FRAMES and noise.outputs[0].shape == (FRAMES * 40,)
    assert fft.state_bytes == 160 * 2  # the kept samples
    assert noise.state_bytes == 40 * 4 + 4 + FRAMES * 40  # the noise estimate, the ring's head and rows
    clip = NativeStream(16000, {})  # without num_frames: one clip per run, no state, as before
    assert clip.fft.outputs[0].shape == (FRAMES, 40)
    assert clip.fft.outputs[0].attributes == {"fft_length": 512} and clip.fft.state_bytes == 0
    assert "num_frames" not in clip.noise.args and clip.noise.state_bytes == 0


def test_twenty_ms_chunks_equal_tflite_micro_run_continuously(streaming_rune, record_property):
    """A long signal in 20 ms chunks through the numpy references, the native C, and the rune on
    wasmtime and on wasm3: after every chunk, every feature equals TFLM's."""
    fe = frontend()
    pcm = long_signal()
    chunks = len(pcm) // 320
    expected = Expected(pcm, fe.DEFAULT_PARAMS, 320, FRAMES, audio_oracle.Preprocessor())
    assert (expected.silence == -128).all()
    native = NativeStream(320, {"frames": FRAMES})
    streams = {"numpy": ReferenceStream(native).run, "native C": native.run}
    runtimes = {engine: Runtime.load(streaming_rune, engine=engine) for engine in ("wasmtime", "wasm3")}
    sources = {}
    for engine, runtime in runtimes.items():
        sources[engine] = ArraySource()
        runtime.set_source("audio", sources[engine])
        streams[f"rune ({engine})"] = lambda chunk, r=runtime, s=sources[engine]: (
            setattr(s, "array", chunk), r.run()[0].value)[1]
    identical = {name: 0 for name in streams}
    first_difference = {}
    try:
        for run in range(chunks):
            chunk = pcm[run * 320:(run + 1) * 320]
            want = expected.after(run)
            for name, stream in streams.items():
                got = np.asarray(stream(chunk)).reshape(-1)
                identical[name] += int((got == want).sum())
                if name not in first_difference and not np.array_equal(got, want):
                    first_difference[name] = run
    finally:
        for runtime in runtimes.values():
            runtime.close()
    total = chunks * FRAMES * 40
    lines = [f"{name:<18} {100 * count / total:8.4f}% of {total:,} values identical" for name, count in identical.items()]
    record_property("report", f"streaming features vs TFLM run continuously, {len(pcm) / 16000:g} s in "
                    f"{chunks} chunks of 20 ms\n" + "\n".join(lines))
    assert not first_difference, f"first differing chunk: {first_difference}\n" + "\n".join(lines)


def test_the_stream_is_tflite_micro_after_digital_silence():
    """The rows before the first audio are the frames of digital silence: the same features come
    from TFLM run over the stream preceded by 48 strides and the kept 160 samples of zeros,
    taking its last 49 frames after each chunk."""
    fe = frontend()
    pcm = np.concatenate([wav("yes"), wav("noise")])
    oracle = audio_oracle.Preprocessor()
    expected = Expected(pcm, fe.DEFAULT_PARAMS, 320, FRAMES, oracle)
    prefix = np.zeros(160 + (FRAMES - 1) * 320, np.int16)
    after_silence = audio_oracle.Preprocessor().clip(np.concatenate([prefix, pcm])).reshape(-1, 40)
    for run in range(len(pcm) // 320):
        assert np.array_equal(expected.after(run), after_silence[run:run + FRAMES].reshape(-1)), run


OTHER_STREAMS = {
    # name: (frontend parameters, samples per run, frames kept)
    "60 ms chunks, 3 new frames a run": ({}, 960, FRAMES),
    "30 ms windows every 10 ms, 10 ms chunks (320 samples kept)": (
        dict(window_stride_ms=10, num_channels=32), 160, 98),
    "30 ms windows every 10 ms, 50 ms chunks": (dict(window_stride_ms=10, num_channels=32), 800, 20),
    "16 ms windows every 20 ms (nothing kept), 40 ms chunks": (dict(window_size_ms=16, num_channels=32), 640, 10),
    "64 ms windows every 32 ms, 1024-point FFT, 64 channels": (
        dict(window_size_ms=64, window_stride_ms=32, num_channels=64, lower_band_limit_hz=60.0,
             upper_band_limit_hz=7800.0), 512, 30),
}


@pytest.mark.parametrize("name", list(OTHER_STREAMS))
def test_other_strides_chunks_and_windows_stay_exact(name):
    """Other chunk sizes and windows, against TFLM's preprocessor re-parameterised alike: the
    native C and numpy after every chunk."""
    fe = frontend()
    changes, chunk, frames = OTHER_STREAMS[name]
    params = replace(fe.DEFAULT_PARAMS, **changes)
    oracle = audio_oracle.Preprocessor(audio_oracle.model_for_params(params, fe.make_tables(params)),
                                       params.window_length, params.window_step)
    pcm = np.concatenate([wav("yes"), audio_signals.all_signals()["chirp_lin_20_8000"], wav("no")])
    pcm = pcm[:len(pcm) // chunk * chunk]
    expected = Expected(pcm, params, chunk, frames, oracle)
    fft_args = {"frames": frames, "window_size_ms": params.window_size_ms, "window_stride_ms": params.window_stride_ms,
                "num_channels": params.num_channels, "lower_band_limit": params.lower_band_limit_hz,
                "upper_band_limit": params.upper_band_limit_hz}
    native = NativeStream(chunk, fft_args)
    assert native.fft.outputs[0].shape == (chunk // params.window_step, params.num_channels)
    assert native.noise.args["num_frames"] == frames
    assert native.noise.args["correction_bits"] == params.correction_bits
    reference = ReferenceStream(native)
    distinct = set()
    for run in range(len(pcm) // chunk):
        piece = pcm[run * chunk:(run + 1) * chunk]
        want = expected.after(run)
        distinct.update(np.unique(want).tolist())
        assert np.array_equal(native.run(piece), want), f"native C, run {run}"
        assert np.array_equal(reference.run(piece), want), f"numpy, run {run}"
    assert len(distinct) > 50, "the comparison must not be trivially saturated"


def test_rune_init_restarts_the_stream(streaming_rune):
    """rune_init (Runtime.reset(), or a new instance after a trap) zeroes the state: the stream
    starts again after digital silence."""
    pcm = wav("yes")
    source = ArraySource()
    with Runtime.load(streaming_rune) as runtime:
        runtime.set_source("audio", source)

        def stream(runs):
            outputs = []
            for run in range(runs):
                source.array = pcm[run * 320:(run + 1) * 320]
                outputs.append(runtime.run()[0].value.copy())
            return outputs

        first = stream(30)
        assert not np.array_equal(stream(1)[0], first[0]), "the state must matter for this test to mean anything"
        runtime.reset()
        again = stream(30)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


BAD_STREAMS = {
    "a 25 ms chunk": (streaming_runefile(400, FRAMES), "streaming (num_frames) takes whole strides, but 400 samples "
                      "are not a multiple of the stride (320 samples)", "Runefile.yml:5:"),
    "more new frames than kept": (streaming_runefile(16000, FRAMES), "the 16000 samples of each run give more new "
                                  "frames than the num_frames (49) kept", "Runefile.yml:5:"),
    "num_frames that contradicts the fft": (
        streaming_runefile(640, FRAMES).replace("inputs: [fft]}", "inputs: [fft], args: {frames: 20}}"),
        "num_frames (20) does not match the 49 frames of the streaming fft", "Runefile.yml:6:"),
    "num_frames after an fft that does not stream": (
        streaming_runefile(16000, FRAMES).replace("args: {frames: 49}", "args: {}").replace(
            "inputs: [fft]}", "inputs: [fft], args: {num_frames: 49}}"),
        "num_frames (49) streams, but the fft block producing the input does not", "Runefile.yml:6:"),
    "more new rows than noise_filtering keeps": ("""
version: 1
pipeline:
  rows: {capability: RAW, outputs: [{type: u32, dimensions: [3, 40]}], args: {length: 120}}
  features: {proc-block: noise-filtering, inputs: [rows], args: {num_frames: 2}}
  serial: {out: SERIAL, inputs: [features]}
""", "the 3 new frames of each run exceed the num_frames (2) kept", "Runefile.yml:5:"),
}


@pytest.mark.parametrize("name", list(BAD_STREAMS))
def test_streams_that_cannot_work_are_build_errors(name, tmp_path):
    text, message, where = BAD_STREAMS[name]
    (tmp_path / "Runefile.yml").write_text(text)
    with pytest.raises(RuneError) as error:
        build(tmp_path)
    assert message in " ".join(str(error.value).split()) and where in str(error.value)


# -- examples/micro_speech_streaming ---------------------------------------------------------

@pytest.fixture(scope="module")
def streaming_example(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("example")
    return {runefile: build(EXAMPLES / "micro_speech_streaming" / runefile, out / f"{runefile}.rune").path
            for runefile in ("Runefile.yml", "Runefile")}


def test_the_example_fits_and_both_runefiles_agree(streaming_example):
    from rune.container.rune_file import RuneFile

    manifests = [RuneFile.load(path).manifest for path in streaming_example.values()]
    for manifest in manifests:
        assert manifest["memory"]["used_bytes"] <= 64 * 1024
        audio = next(c for c in manifest["capabilities"] if c["kind"] == "SOUND")
        assert audio["dimensions"] == [320]
    assert manifests[0]["stages"] == manifests[1]["stages"]
    assert (EXAMPLES / "micro_speech_streaming" / "model.tflite").read_bytes() == \
        (EXAMPLES / "micro_speech" / "model.tflite").read_bytes()


def test_the_example_keeps_each_row_once(streaming_example, built_examples, record_property):
    """The fft outputs only the new frame and keeps only the 160 samples that begin the next window;
    the 49 rows of the last second are kept once, as int8 features, by noise_filtering. Against
    examples/micro_speech, which takes the whole second each inference, the tensors are smaller by
    at least the audio's (16000 - 320) * 2 bytes, and so is the whole rune, its state included."""
    from rune.container.rune_file import RuneFile

    manifest = RuneFile.load(streaming_example["Runefile.yml"]).manifest
    memory = manifest["memory"]
    clip = RuneFile.load(built_examples["micro_speech"]).manifest["memory"]
    fft = next(stage for stage in manifest["stages"] if stage["name"] == "fft")
    assert fft["outputs"] == [{"type": "u32", "dimensions": [1, 40]}]
    aligned = lambda n: -(-n // 16) * 16  # each stage's state is 16-byte aligned
    assert memory["state_bytes"] == aligned(160 * 2) + aligned(40 * 4 + 4 + FRAMES * 40)
    assert clip["state_bytes"] == 0
    assert memory["arena_bytes"] <= clip["arena_bytes"] - (16000 - 320) * 2
    assert memory["used_bytes"] <= clip["used_bytes"] - (16000 - 320) * 2
    record_property("report", f"examples/micro_speech_streaming: used_bytes {memory['used_bytes']:,} "
                    f"(examples/micro_speech {clip['used_bytes']:,}): tensors {memory['arena_bytes']:,} "
                    f"({clip['arena_bytes']:,}), block state {memory['state_bytes']:,}, stack {memory['stack_bytes']:,}")


@pytest.mark.parametrize("engine", ["wasmtime", "wasm3"])
def test_the_example_hears_yes_in_a_long_recording(streaming_example, tmp_path, engine):
    """`rune run --sound LONG.wav --stride-ms 20` streams a recording of silence, then "yes",
    then silence, 20 ms per inference: the label is "silence" once the first second has gone
    through, and becomes "yes" (with a score near the maximum) within a second of the word's
    start, then goes back to "silence". (During the first second the feature window still holds
    rows of the digital silence before the stream, and the micro_speech model calls the onset of
    a near-silent recording after digital silence "yes", in a one-second clip too: see
    docs/audio-features.md, "Streaming".)"""
    from scipy.io import wavfile

    silence, yes = wav("silence"), wav("yes")
    recording = np.concatenate([silence, silence, yes, silence, silence])
    wavfile.write(tmp_path / "long.wav", 16000, recording)
    onset_ms = 2000
    result = rune_cli("run", streaming_example["Runefile.yml"], "--sound", tmp_path / "long.wav", "--stride-ms", 20,
                      "--json", "--engine", engine)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    labels = [line["elements"][0] for line in lines[0::2]]
    yes_scores = [line["elements"][2] for line in lines[1::2]]
    assert len(labels) == len(recording) // 320  # one inference per 20 ms of the recording
    end_ms = [20 * (i + 1) for i in range(len(labels))]  # the audio heard after inference i
    # once the feature window holds a whole second of the recording, and until the word:
    assert {label for label, t in zip(labels, end_ms) if 1100 <= t <= onset_ms} == {"silence"}
    assert max(score for score, t in zip(yes_scores, end_ms) if 1100 <= t <= onset_ms) < 0
    heard = [t for label, score, t in zip(labels, yes_scores, end_ms)
             if t > onset_ms and label == "yes" and score >= 100]
    assert heard and heard[0] <= onset_ms + 1000, heard[:3]
    run_of_yes = [label for label, t in zip(labels, end_ms) if heard[0] <= t < heard[0] + 400]
    assert set(run_of_yes) == {"yes"}
    assert labels[-1] == "silence"
