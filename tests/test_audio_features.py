"""The fft and noise_filtering blocks against TensorFlow Lite Micro's audio preprocessor.

Every one of the 1960 int8 features of a one-second clip must be identical, for the four
recordings in ../shared/data/audio and for generated signals (tones, chirps, noise, square
waves, clipping, DC, impulses), from the numpy reference, from the C compiled natively, and
from the C compiled into a rune and run by wasmtime.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import audio_oracle
import audio_signals
from conftest import ArraySource, frontend, wav
from rune.blocks.harness import BlockInstance
from rune.blocks.registry import resolve
from rune.compiler.build import build
from rune.diagnostics import RuneError
from rune.runtime import Runtime
from rune.tensors import ElementType, TensorType


def recordings() -> dict[str, np.ndarray]:
    return {f"wav_{name}": wav(name) for name in ("yes", "no", "silence", "noise")}


SIGNALS = {**audio_signals.all_signals()}


def block_args(p, fe):
    fft = {"sample_rate": p.sample_rate, "window_size_ms": p.window_size_ms, "window_stride_ms": p.window_stride_ms,
           "num_channels": p.num_channels, "lower_band_limit": p.lower_band_limit_hz,
           "upper_band_limit": p.upper_band_limit_hz}
    noise = {"smoothing_bits": p.noise_smoothing_bits, "even_smoothing": p.even_smoothing,
             "odd_smoothing": p.odd_smoothing, "min_signal_remaining": p.min_signal_remaining,
             "clamping": p.clamping, "strength": p.pcan_strength, "offset": p.pcan_offset,
             "gain_bits": p.pcan_gain_bits, "correction_bits": p.correction_bits}
    return fft, noise


class NativeFrontend:
    """The two blocks compiled natively, chained."""

    def __init__(self, params, samples: int):
        fe = frontend()
        fft_args, noise_args = block_args(params, fe)
        self.fft = BlockInstance(resolve("fft", Path(".")).manifest, fft_args,
                                 [TensorType(ElementType.I16, (samples,))])
        self.noise = BlockInstance(resolve("noise_filtering", Path(".")).manifest, noise_args, self.fft.outputs)
        self.fft_native, self.noise_native = self.fft.native(), self.noise.native()

    def features(self, pcm):
        return self.noise_native.run(self.fft_native.run([pcm]))[0]


@pytest.fixture(scope="module")
def wasm_frontend(tmp_path_factory):
    folder = tmp_path_factory.mktemp("features")
    (folder / "Runefile.yml").write_text("""
version: 1
pipeline:
  audio: {capability: RAW, outputs: [{type: i16, dimensions: [16000]}], args: {length: 16000}}
  fft: {proc-block: fft, inputs: [audio]}
  features: {proc-block: noise-filtering, inputs: [fft]}
  serial: {out: SERIAL, inputs: [features]}
""")
    with Runtime.load(build(folder).path) as runtime:
        yield runtime


def share(a, b) -> float:
    return float(np.mean(np.asarray(a).reshape(-1) == np.asarray(b).reshape(-1)))


def test_default_tables_equal_the_models_constants():
    fe = frontend()
    tables = fe.make_tables(fe.DEFAULT_PARAMS)
    for name, constant in audio_oracle.model_constants().items():
        assert np.array_equal(getattr(tables, name), constant), name
    assert all(fe.check_table_robustness(fe.DEFAULT_PARAMS, ulps=1).values()), \
        "the default tables must not depend on the last bit of the C library's log1pf/powf"


def test_every_signal_is_identical_to_tflite_micro(wasm_frontend, record_property):
    fe = frontend()
    oracle = audio_oracle.Preprocessor()
    native = NativeFrontend(fe.DEFAULT_PARAMS, 16000)
    rows, worst = [], 1.0
    for name, pcm in {**recordings(), **SIGNALS}.items():
        want = oracle.clip(pcm)
        wasm_frontend.set_source("audio", ArraySource(pcm))
        got = {"numpy": fe.features(pcm), "native C": native.features(pcm),
               "wasm": wasm_frontend.run()[0].value}
        shares = {k: share(v, want) for k, v in got.items()}
        worst = min(worst, *shares.values())
        rows.append(f"{name:<34}" + "".join(f"{100 * s:>10.2f}%" for s in shares.values()))
    header = f"{'signal (1960 int8 features each)':<34}" + "".join(f"{k:>11}" for k in got)
    record_property("report", "share of features identical to TFLM's audio preprocessor\n" +
                    "\n".join([header, *rows]) + f"\n{len(rows)} signals, lowest share {100 * worst:.2f}%")
    assert worst == 1.0, "\n".join(rows)


ALTERNATIVE_PARAMETERS = {
    "16 ms windows, 32 channels (FFT 256)": dict(window_size_ms=16, num_channels=32),
    "64 ms windows, 64 channels (FFT 1024)": dict(window_size_ms=64, window_stride_ms=32, num_channels=64,
                                                  lower_band_limit_hz=60.0, upper_band_limit_hz=7800.0),
    "8 kHz, 20 channels": dict(sample_rate=8000, num_channels=20, upper_band_limit_hz=3900.0),
    "48 kHz, 40 ms, 64 channels (FFT 2048)": dict(sample_rate=48000, window_size_ms=40, num_channels=64,
                                                   upper_band_limit_hz=20000.0),
    "clamping, other smoothing and PCAN": dict(clamping=True, even_smoothing=0.04, odd_smoothing=0.0,
                                               min_signal_remaining=0.1, pcan_strength=0.9, pcan_offset=20.0),
}


@pytest.mark.parametrize("name", list(ALTERNATIVE_PARAMETERS))
def test_block_arguments_stay_exact(name):
    fe = frontend()
    params = replace(fe.DEFAULT_PARAMS, **ALTERNATIVE_PARAMETERS[name])
    tables = fe.make_tables(params)
    oracle = audio_oracle.Preprocessor(audio_oracle.model_for_params(params, tables), params.window_length,
                                       params.window_step)
    samples = params.sample_rate  # one second
    native = NativeFrontend(params, samples)
    signals = [recordings()["wav_yes"], SIGNALS["chirp_lin_20_8000"], SIGNALS["white_seed0_std3000"],
               SIGNALS["square_1000Hz_full"], SIGNALS["clip_tone_300Hz_x3"], SIGNALS["min_then_small"]]
    distinct = set()
    for pcm in signals:
        pcm = np.resize(pcm, samples).astype(np.int16)
        want = oracle.clip(pcm)
        distinct.update(np.unique(want).tolist())
        assert np.array_equal(native.features(pcm), want)
        assert np.array_equal(fe.features(pcm, params), want)
    assert len(distinct) > 50, "the comparison must not be trivially saturated"


def test_state_reset_and_carry_over_are_those_of_tflite_micro():
    """TFLM's preprocessor keeps its noise estimate across invocations: reset() equals a fresh
    interpreter, and without it a clip run twice gives other features (987 of the 1960 values of
    yes_1000ms, which docs/audio-features.md quotes). numpy's NoiseState reproduces both."""
    fe = frontend()
    pcm = recordings()["wav_yes"]
    oracle = audio_oracle.Preprocessor()
    first = oracle.clip(pcm)
    assert np.array_equal(first, audio_oracle.Preprocessor().clip(pcm))
    carried = oracle.clip(pcm, reset=False)
    assert int(np.sum(carried != first)) == 987, "the state must matter for this comparison to mean anything"
    state = fe.NoiseState(fe.DEFAULT_PARAMS.num_channels)
    energies = fe.fft(pcm)
    assert np.array_equal(fe.noise_filtering(energies, state=state), first)
    assert np.array_equal(fe.noise_filtering(energies, state=state), carried)


FFT_1024_RUNEFILES = {
    "Runefile.yml": """
version: 1
pipeline:
  audio: {capability: RAW, outputs: [{type: i16, dimensions: [16000]}], args: {length: 16000}}
  fft: {proc-block: fft, inputs: [audio], args: {window_size_ms: 64, window_stride_ms: 32}}
  features: {proc-block: noise-filtering, inputs: [fft]}
  serial: {out: SERIAL, inputs: [features]}
""",
    # Declared shapes rename the tensors between the stages; what fft says of its output must survive.
    "Runefile": """
FROM runicos/base
CAPABILITY<I16[16000]> audio RAW --length 16000
PROC_BLOCK<I16[16000],U32[30,40]> fft hotg-ai/proc-blocks@refs/heads/master#fft --window-size-ms 64 --window-stride-ms 32
PROC_BLOCK<U32[30,40],I8[1200]> features hotg-ai/rune#proc_blocks/noise-filtering
OUT serial
RUN audio fft features serial
""",
}


@pytest.mark.parametrize("runefile", list(FFT_1024_RUNEFILES))
def test_noise_filtering_follows_the_fft_length(runefile, tmp_path):
    """Only the fft's window changes (a 1024-point FFT); noise_filtering keeps its defaults and
    still matches TFLM's preprocessor generated for that window, because its correction_bits
    follows the FFT length the fft block declares on its output (4 here, 3 for 512 points)."""
    fe = frontend()
    params = replace(fe.DEFAULT_PARAMS, window_size_ms=64, window_stride_ms=32)
    assert (params.fft_length, params.correction_bits) == (1024, 4)
    oracle = audio_oracle.Preprocessor(audio_oracle.model_for_params(params, fe.make_tables(params)),
                                       params.window_length, params.window_step)
    fft = BlockInstance(resolve("fft", Path(".")).manifest, {"window_size_ms": 64, "window_stride_ms": 32},
                        [TensorType(ElementType.I16, (16000,))])
    noise = BlockInstance(resolve("noise_filtering", Path(".")).manifest, {}, fft.outputs)
    assert noise.args["correction_bits"] == 4
    fft_native, noise_native = fft.native(), noise.native()
    (tmp_path / runefile).write_text(FFT_1024_RUNEFILES[runefile])
    distinct = set()
    with Runtime.load(build(tmp_path).path) as runtime:
        for pcm in (recordings()["wav_yes"], SIGNALS["chirp_lin_20_8000"], SIGNALS["white_seed0_std3000"]):
            want = oracle.clip(pcm)
            distinct.update(np.unique(want).tolist())
            runtime.set_source("audio", ArraySource(pcm))
            assert np.array_equal(runtime.run()[0].value, want)
            assert np.array_equal(noise_native.run(fft_native.run([pcm]))[0], want)
    assert len(distinct) > 50, "the comparison must not be trivially saturated"


def test_a_correction_that_contradicts_the_fft_is_refused(tmp_path):
    (tmp_path / "Runefile.yml").write_text(FFT_1024_RUNEFILES["Runefile.yml"].replace(
        "inputs: [fft]}", "inputs: [fft], args: {correction_bits: 3}}"))
    with pytest.raises(RuneError) as error:
        build(tmp_path)
    message = str(error.value)
    assert "correction_bits (3) does not match the 1024-point FFT" in message
    assert "Runefile.yml:6:" in message  # at the argument


def test_each_inference_is_one_clip(wasm_frontend):
    """noise_filtering starts every inference from a reset state, like TFLM per clip."""
    pcm = recordings()["wav_yes"]
    wasm_frontend.set_source("audio", ArraySource(pcm))
    first, second = wasm_frontend.run()[0].value, wasm_frontend.run()[0].value
    assert np.array_equal(first, second)
