"""The PDM microphone driver's arithmetic (firmware_templates/runtime/sensors/pdm_decimator.c and
i2s_clock.c), compiled natively with the sanitizers and fed PDM bitstreams that a sigma-delta
modulator made here from known signals: the PCM that comes out has the tone's frequency and
level, a flat passband, no aliases, and equals a floating-point model of the same filters."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT

SENSORS = ROOT / "firmware_templates" / "runtime" / "sensors"
MIC_MIN_HZ = 1_000_000
TAPS = 41


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("needs gcc")
    binary = tmp_path_factory.mktemp("pdm") / "pdm_harness"
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", f"-I{SENSORS}", str(ROOT / "tests" / "pdm_harness.c"),
                    str(SENSORS / "pdm_decimator.c"), str(SENSORS / "i2s_clock.c"), "-o", str(binary)],
                   check=True, capture_output=True, text=True)
    return binary


def ratio_for(hz: int) -> int:
    """As the MP45DT02 driver chooses: the least of 64, 96, 128 that clocks the microphone at 1 MHz or more."""
    return next(r for r in (64, 96, 128) if hz * r >= MIC_MIN_HZ)


def modulate(signal: np.ndarray) -> np.ndarray:
    """A second-order sigma-delta modulator: one bit (0 or 1) per input value in [-1, 1]."""
    bits = np.empty(len(signal), np.uint8)
    first = second = 0.0
    for n, value in enumerate(signal.tolist()):
        out = 1.0 if second >= 0 else -1.0
        bits[n] = out > 0
        first += value - out
        second += first - out
    return bits


def words_of(bits: np.ndarray) -> bytes:
    """16-bit words, the earliest bit the most significant, little-endian: as DMA stores I2S."""
    packed = np.packbits(bits[: len(bits) // 16 * 16])  # MSB first within each byte
    return packed.reshape(-1, 2)[:, ::-1].tobytes()     # high byte first in time, stored second


def decimate(harness, bits: np.ndarray, ratio: int, gain_shift: int = 0) -> np.ndarray:
    result = subprocess.run([str(harness), "decimate", str(ratio), str(gain_shift)], input=words_of(bits),
                            capture_output=True, check=True)
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.float64)


def tone_bits(hz: int, frequencies, amplitude: float, seconds: float = 0.3) -> np.ndarray:
    rate = hz * ratio_for(hz)
    t = np.arange(int(rate * seconds)) / rate
    return modulate(sum(amplitude * np.sin(2 * np.pi * f * t + 0.3 * k) for k, f in enumerate(frequencies)))


def spectrum(pcm: np.ndarray, hz: int, settle: float = 0.05):
    """Amplitude spectrum (a sine of amplitude A shows as A) after the filters have settled."""
    x = pcm[int(settle * hz):]
    window = np.hanning(len(x))
    amplitude = 2 * np.abs(np.fft.rfft(x * window)) / window.sum()
    return np.fft.rfftfreq(len(x), 1 / hz), amplitude


def level_at(freqs, amplitude, f: float) -> float:
    k = int(np.argmin(np.abs(freqs - f)))
    return float(np.sqrt(np.sum(amplitude[k - 2:k + 3] ** 2) / 1.5))  # Hann: the main lobe's power


@pytest.mark.parametrize("hz", [8000, 12000, 16000])
def test_a_1khz_sine_comes_out_at_1khz_at_its_level(harness, hz):
    ratio = ratio_for(hz)
    pcm = decimate(harness, tone_bits(hz, [1000], 0.25), ratio)
    stage2_outputs = int(0.3 * hz * ratio) // 16 // (ratio // 32)  # one every ratio / 32 words
    assert len(pcm) == (stage2_outputs + 1) // 2  # the FIR gives one for every second
    freqs, amplitude = spectrum(pcm, hz)
    assert abs(freqs[np.argmax(amplitude)] - 1000) <= freqs[1]
    level = level_at(freqs, amplitude, 1000)
    assert 20 * np.log10(level / (0.25 * 32768)) == pytest.approx(0, abs=0.2)  # PDM full scale is i16 full scale
    peak = int(np.argmax(amplitude))
    noise = np.sqrt(np.sum(amplitude ** 2) - np.sum(amplitude[peak - 3:peak + 4] ** 2))
    assert 20 * np.log10(level / noise) > 55  # the modulator's own noise, mostly
    assert abs(np.mean(pcm[int(0.05 * hz):])) < 20  # the DC blocker


def test_the_gain_multiplies_and_saturates(harness):
    quiet = decimate(harness, tone_bits(16000, [1000], 0.02), 64, gain_shift=4)
    freqs, amplitude = spectrum(quiet, 16000)
    assert 20 * np.log10(level_at(freqs, amplitude, 1000) / (16 * 0.02 * 32768)) == pytest.approx(0, abs=0.3)
    # silence, then every bit 1 (PDM full scale, 16 times i16's with the gain): the step
    # saturates at +32767 and stays there (the DC blocker brings it down in tens of ms), where
    # wrapping arithmetic would jump about
    bits = np.concatenate([tone_bits(16000, [1000], 0.0, seconds=0.05), np.ones(64 * 400, np.uint8)])
    loud = decimate(harness, bits, 64, gain_shift=4)
    top = int(np.argmax(loud == 32767))
    assert top > 0 and np.all(loud[top:top + 200] == 32767)


@pytest.mark.parametrize("hz", [8000, 12000, 16000])
def test_the_passband_is_flat(harness, hz):
    """The FIR undoes the CIC filters' droop: tones up to 0.42 of the rate keep their level."""
    frequencies = [0.06 * hz, 0.2 * hz, 0.32 * hz, 0.4 * hz]
    freqs, amplitude = spectrum(decimate(harness, tone_bits(hz, frequencies, 0.12), ratio_for(hz)), hz)
    for f in frequencies:
        assert 20 * np.log10(level_at(freqs, amplitude, f) / (0.12 * 32768)) == pytest.approx(0, abs=0.3), f


@pytest.mark.parametrize("hz", [8000, 16000])
@pytest.mark.parametrize("multiple", [0.7, 0.95, 1.3, 1.9, 2.9, 4.1])
def test_what_would_alias_is_removed(harness, hz, multiple):
    """A tone at multiple * rate would fold into the passband (below 0.42 of the rate) if the
    filters let it through: it must come out at least 50 dB down."""
    f = multiple * hz
    folded = abs(f - hz * round(f / hz))
    freqs, amplitude = spectrum(decimate(harness, tone_bits(hz, [f], 0.4), ratio_for(hz)), hz)
    assert level_at(freqs, amplitude, folded) < 0.4 * 32768 * 10 ** (-50 / 20)


def reference(bits: np.ndarray, ratio: int, fir: np.ndarray) -> np.ndarray:
    """The same filters in floating point, written from their definition (pdm_decimator.h)."""
    history = np.unpackbits(np.full(4, 0x55, np.uint8))  # the decimator starts from PDM silence
    x = np.concatenate([history, bits[: len(bits) // 16 * 16]]).astype(np.float64)
    cic1 = np.ones(1)
    for _ in range(5):
        cic1 = np.convolve(cic1, np.ones(8))
    stage1 = np.convolve(x, cic1)[len(history) + 7:len(x):8] - 16384  # after each byte
    factor = ratio // 16
    cic2 = np.ones(1)
    for _ in range(4):
        cic2 = np.convolve(cic2, np.ones(factor))
    stage2 = np.convolve(stage1, cic2)[factor - 1:len(stage1):factor] * (2.0 ** 20 / (16384 * factor ** 4))
    stage3 = np.convolve(stage2, fir)[0:len(stage2):2]  # the first output after the first stage-2 value
    out, last, state = [], 0.0, 0.0
    for value in stage3:
        state += (value - last) - state / 256
        last = value
        out.append(state / 32)  # 2^20 to 2^15
    return np.array(out)


@pytest.mark.parametrize("ratio", [64, 96, 128])
def test_the_integer_filters_equal_their_floating_point_model(harness, ratio):
    rate = 16000 * ratio
    t = np.arange(int(rate * 0.05)) / rate
    rng = np.random.default_rng(ratio)
    signal = 0.3 * np.sin(2 * np.pi * 700 * t) + 0.2 * np.sin(2 * np.pi * 3100 * t) + 0.05 * rng.standard_normal(len(t))
    bits = modulate(np.clip(signal, -0.7, 0.7))
    expected = reference(bits, ratio, c_fir() / 32768)
    got = decimate(harness, bits, ratio)
    assert len(got) == len(expected)
    assert np.max(np.abs(got - expected)) <= 2


def c_fir() -> np.ndarray:
    """The 41 coefficients as pdm_decimator.c has them (it stores the first 21)."""
    text = (SENSORS / "pdm_decimator.c").read_text()
    body = re.search(r"fir_half\[[^]]*\] = \{([^}]*)\}", text).group(1)
    half = [int(v) for v in body.replace("\n", " ").split(",") if v.strip()]
    assert len(half) == TAPS // 2 + 1
    return np.array(half + half[-2::-1], dtype=np.float64)


def cic_gain(f: np.ndarray, factor: int, order: int) -> np.ndarray:
    """A CIC filter's gain at f, in cycles per input sample."""
    w = np.pi * f
    return np.abs(np.sin(factor * w) / (factor * np.sin(w))) ** order


def test_the_fir_coefficients_are_the_documented_design():
    """Least squares (firls) at twice the PCM rate: the inverse of both CIC filters' droop (ratio
    64) up to 0.42 of the PCM rate, 0 from 0.58, stopband weighted 30; Q15, the centre tap
    adjusted so that they sum to 32768. Each may differ from this design by one step: the
    rounding of a coefficient near a half depends on scipy's and LAPACK's last bits."""
    from scipy.signal import firls

    f = np.linspace(0, 0.42, 50)  # in units of the PCM rate; the FIR runs at 2
    with np.errstate(invalid="ignore", divide="ignore"):
        droop = np.where(f == 0, 1.0, cic_gain(f / 64, 8, 5) * cic_gain(f / 8, 4, 4))
    bands, desired = [], []
    for a, b, da, db in zip(f[:-1], f[1:], 1 / droop[:-1], 1 / droop[1:]):
        bands += [a, b]
        desired += [da, db]
    h = firls(TAPS, bands + [0.58, 1.0], desired + [0, 0], weight=[1] * (len(f) - 1) + [30], fs=2.0)
    q = np.round(h * 32768)
    q[TAPS // 2] += 32768 - q.sum()
    assert np.max(np.abs(q - c_fir())) <= 1, list(q - c_fir())
    assert c_fir().sum() == 32768  # unity gain at DC, exactly


@pytest.mark.parametrize("ratio", [64, 96, 128])
def test_the_whole_chain_is_flat_and_stops_what_would_alias(ratio):
    """From the coefficients as they are: the CIC filters times the FIR, at every ratio."""
    from scipy.signal import freqz

    factor = ratio // 16
    passband = np.linspace(0.001, 0.42, 400)  # in units of the PCM rate
    fir = np.abs(freqz(c_fir() / 32768, worN=2 * np.pi * passband / 2)[1])
    gain = cic_gain(passband / ratio, 8, 5) * cic_gain(passband / (ratio / 8), factor, 4) * fir
    assert np.all(np.abs(20 * np.log10(gain)) < 0.15)
    stopband = np.linspace(0.58, 1.0, 400)
    assert np.all(20 * np.log10(np.abs(freqz(c_fir() / 32768, worN=2 * np.pi * stopband / 2)[1])) < -50)


def clock(harness, input_hz: int, bit_hz: int) -> dict:
    result = subprocess.run([str(harness), "clock", str(input_hz), str(bit_hz)], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


@pytest.mark.parametrize("hz", [7813, 8000, 11025, 12000, 15000, 15625, 16000])
def test_the_i2s_clock_is_within_0_1_percent(harness, hz):
    bit_hz = hz * ratio_for(hz)
    plan = clock(harness, 1_000_000, bit_hz)
    assert plan["ok"]
    assert 192 <= plan["n"] <= 432 and 2 <= plan["r"] <= 7 and 2 <= plan["div"] <= 255
    assert 1_000_000 * plan["n"] // plan["r"] <= 192_000_000
    made = 1_000_000 * plan["n"] / plan["r"] / (2 * plan["div"] + plan["odd"])
    assert abs(made / bit_hz - 1) <= 0.001
    if hz in (8000, 16000):  # 1.024 MHz exactly: 256 / 5 / 50
        assert made == bit_hz


def test_an_impossible_clock_is_refused(harness):
    assert not clock(harness, 1_000_000, 100_000_000)["ok"]
    # no clock at all: refused, and the settings it leaves are all zeros, not whatever was there
    assert clock(harness, 1_000_000, 0) == {"ok": False, "n": 0, "r": 0, "div": 0, "odd": 0, "bit_hz": 0}
