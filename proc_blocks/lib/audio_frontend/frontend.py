"""Bit-exact numpy reference of the TFLM micro_speech audio preprocessor (docs/audio-features.md).

Reproduces `audio_preprocessor_int8.tflite` (TensorFlow Lite Micro signal
library) frame by frame, as two processing blocks:

  fft(pcm_i16, **params)              -> u32 [frames, channels]
      Hann window, FFT auto-scale, fixed-point 16-bit real FFT, energy,
      mel filterbank (u64 accumulators), square root + undo of auto-scale.

  noise_filtering(energies_u32, **params) -> i8 [frames * channels]
      spectral-subtraction noise reduction (stateful across frames),
      PCAN auto gain control, integer log, int8 quantisation.

  fft_stream / noise_filtering_stream (with FftStream / NoiseStream)
      the blocks' streaming mode: only the new audio each call, the state
      carried (docs/audio-features.md, section 8).

The split falls exactly at the u32 tensor that TFLM calls
`signal_filter_bank_square_root` (the square root is in `fft` because it
undoes the per-frame FFT auto-scale shift, which noise_filtering never sees).

All arithmetic is integer (numpy int64/uint64 with explicit wrap-around where
the C code wraps).  Floating point is used only in `make_tables()`, which
reproduces the constant tables that the TFLM Python model generator computes
(float64 numpy / float32 C wrappers); see NOTES.md.

Written from the specification in NOTES.md; no third-party source is copied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, asdict, replace
from functools import lru_cache

import numpy as np

__all__ = [
    "FrontendParams", "DEFAULT_PARAMS", "Tables", "make_tables", "fft",
    "noise_filtering", "features", "frame_signal", "NoiseState",
    "fft_stages", "noise_filtering_stages", "FloatEnv",
    "check_table_robustness", "c_config_values", "fft_params", "noise_params",
    "FftStream", "fft_stream", "NoiseStream", "noise_filtering_stream",
]


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class FrontendParams:
    """User-facing parameters; defaults = micro_speech audio_preprocessor."""
    sample_rate: int = 16000
    window_size_ms: int = 30
    window_stride_ms: int = 20
    window_scaling_bits: int = 12          # Hann weights are Q12
    num_channels: int = 40
    lower_band_limit_hz: float = 125.0
    upper_band_limit_hz: float = 7500.0
    filter_bank_scaling_bits: int = 12     # filterbank weights are Q12
    filter_bank_alignment: int = 4         # bytes; 4 -> index alignment 2
    filter_bank_channel_block_size: int = 4
    # noise reduction (spectral subtraction)
    spectral_subtraction_bits: int = 14
    noise_smoothing_bits: int = 10
    even_smoothing: float = 0.025
    odd_smoothing: float = 0.06
    min_signal_remaining: float = 0.05
    clamping: bool = False
    # PCAN
    pcan_enabled: bool = True
    pcan_strength: float = 0.95
    pcan_offset: float = 80.0
    pcan_gain_bits: int = 21
    pcan_smoothing_bits: int = 10          # should equal noise_smoothing_bits
    pcan_snr_shift: int = 6                # TFLM pcan_op.py hard-codes 6
    # log
    log_scale_bits: int = 6                # log output scale = 1 << bits
    # int8 output quantisation: out = (log*scale + div//2) // div + offset
    output_scale: int = 256
    output_div: int = 666                  # int(25.6 * 26 + 0.5)
    output_offset: int = -128

    # ---- derived quantities (exactly as the TFLM generator derives them) --
    @property
    def window_length(self) -> int:
        return int(self.window_size_ms * self.sample_rate / 1000)

    @property
    def window_step(self) -> int:
        return int(self.window_stride_ms * self.sample_rate / 1000)

    @property
    def fft_bits(self) -> int:
        return math.ceil(math.log2(self.window_length))

    @property
    def fft_length(self) -> int:
        return 1 << self.fft_bits

    @property
    def spectrum_size(self) -> int:
        return self.fft_length // 2 + 1

    @property
    def correction_bits(self) -> int:
        """Bits the log (and PCAN LUT) 'input_correction_bits' undo."""
        return self.fft_bits - int(self.filter_bank_scaling_bits / 2)

    @property
    def smoothing_q(self) -> tuple[int, int, int, int, int]:
        """(smoothing, one_minus, alt_smoothing, alt_one_minus, min_signal)."""
        one = 1 << self.spectral_subtraction_bits
        alt = self.odd_smoothing if self.odd_smoothing != 0 else self.even_smoothing
        s = int(self.even_smoothing * one)
        a = int(alt * one)
        m = int(self.min_signal_remaining * one)
        return s, one - s, a, one - a, m


DEFAULT_PARAMS = FrontendParams()


def _params(params: FrontendParams | None, kw: dict) -> FrontendParams:
    p = DEFAULT_PARAMS if params is None else params
    return replace(p, **kw) if kw else p


# --------------------------------------------------------------------------
# Table generation (the only place floating point is used)
# --------------------------------------------------------------------------

class FloatEnv:
    """The transcendental functions used by the table generators.

    Default: correctly rounded results (float32 functions evaluated in
    float64 and rounded once), which is platform independent.  The TFLM
    generator used its host C library (log1pf, powf) and numpy (cos); those
    are not always correctly rounded, so `check_table_robustness()` re-runs
    the generators with every function nudged by +-`ulps` to prove that a
    given parameter set does not depend on that last bit.
    """

    def __init__(self, ulps: dict | None = None, host_libm: bool = False):
        self.ulps = dict(ulps or {})
        self._libm = None
        if host_libm:
            import ctypes
            import ctypes.util
            lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
            lib.log1pf.restype = ctypes.c_float
            lib.log1pf.argtypes = [ctypes.c_float]
            lib.powf.restype = ctypes.c_float
            lib.powf.argtypes = [ctypes.c_float, ctypes.c_float]
            self._libm = lib

    @staticmethod
    def _nudge32(v, k):
        v = np.float32(v)
        d = np.float32(np.inf if k > 0 else -np.inf)
        for _ in range(abs(k)):
            v = np.nextafter(v, d)
        return np.float32(v)

    @staticmethod
    def _nudge64(v, k):
        d = np.inf if k > 0 else -np.inf
        for _ in range(abs(k)):
            v = np.nextafter(v, d)
        return v

    def log1pf(self, q: np.float32) -> np.float32:
        if self._libm is not None:
            r = np.float32(self._libm.log1pf(float(q)))
        else:
            r = np.float32(math.log1p(float(q)))
        return self._nudge32(r, self.ulps.get("log1pf", 0))

    def powf(self, b: np.float32, e: np.float32) -> np.float32:
        if self._libm is not None:
            r = np.float32(self._libm.powf(float(b), float(e)))
        else:
            r = np.float32(float(b) ** float(e))
        return self._nudge32(r, self.ulps.get("powf", 0))

    def np_cos(self, x: np.ndarray) -> np.ndarray:
        return self._nudge64(np.cos(x), self.ulps.get("window_cos", 0))

    def cos(self, x: float) -> float:
        return float(self._nudge64(math.cos(x), self.ulps.get("twiddle", 0)))

    def sin(self, x: float) -> float:
        return float(self._nudge64(math.sin(x), self.ulps.get("twiddle", 0)))


_FENV = FloatEnv()


def hann_window_q(length: int, bits: int, fenv: FloatEnv = _FENV) -> np.ndarray:
    """int16 periodic-offset Hann window, as tflite_micro window_op."""
    arg = np.pi * 2 / length
    idx = np.arange(length)
    w = 0.5 - 0.5 * fenv.np_cos(arg * (idx + 0.5))     # float64, numpy cos
    return np.round(w * (2 ** bits)).astype(np.int16)   # round half to even


def fft_twiddles_q15(n: int, fenv: FloatEnv = _FENV) -> np.ndarray:
    """Complex-FFT twiddles for an n-point transform, [n, 2] int16.

    tw[i] = floor(0.5 + 32767*cos(phase)), floor(0.5 + 32767*sin(phase)),
    phase = (-2*pi*i) / n in IEEE double (same evaluation order as the C).
    """
    out = np.empty((n, 2), np.int16)
    for i in range(n):
        ph = -2 * math.pi * i / n
        out[i, 0] = math.floor(0.5 + 32767 * fenv.cos(ph))
        out[i, 1] = math.floor(0.5 + 32767 * fenv.sin(ph))
    return out


def rfft_super_twiddles_q15(ncfft: int, fenv: FloatEnv = _FENV) -> np.ndarray:
    """Real-FFT split twiddles, [ncfft/2, 2] int16.

    phase_i = -pi * ((i + 1) / ncfft + 0.5), i = 0 .. ncfft/2 - 1.
    """
    out = np.empty((ncfft // 2, 2), np.int16)
    for i in range(ncfft // 2):
        ph = -3.14159265358979323846264338327 * ((i + 1) / ncfft + 0.5)
        out[i, 0] = math.floor(0.5 + 32767 * fenv.cos(ph))
        out[i, 1] = math.floor(0.5 + 32767 * fenv.sin(ph))
    return out


def fft_factors(n: int) -> list[tuple[int, int]]:
    """Radix plan (p, m) pairs: 4s first, then a 2 (powers of two only)."""
    if n < 2 or n & (n - 1):
        raise ValueError("complex FFT size must be a power of two >= 2")
    facs = []
    while n > 1:
        p = 4 if n % 4 == 0 else 2
        n //= p
        facs.append((p, n))
    return facs


def fft_input_permutation(n: int) -> np.ndarray:
    """Order in which the decimation-in-time recursion reads the input."""
    facs = fft_factors(n)
    perm = np.empty(n, np.int64)

    def rec(out_off, in_off, fstride, level):
        p, m = facs[level]
        for q in range(p):
            if m == 1:
                perm[out_off + q] = in_off + q * fstride
            else:
                rec(out_off + q * m, in_off + q * fstride, fstride * p, level + 1)
    rec(0, 0, 1, 0)
    return perm


def _f32(x) -> np.float32:
    return np.float32(x)


def freq_to_mel_f32(freq, fenv: FloatEnv = _FENV) -> np.float32:
    """1127 * log1p(freq / 700) evaluated in float32 (like the C wrapper).

    freq is first converted to float32 (pybind float argument).  log1pf is
    taken from `fenv` (default: correctly rounded, see FloatEnv).
    """
    f = _f32(freq)
    q = _f32(f / _f32(700.0))
    l = fenv.log1pf(q)
    return _f32(_f32(1127.0) * l)


def filterbank_tables(spectrum_size: int, sample_rate: int, alignment: int,
                      block_size: int, num_channels: int, lower: float,
                      upper: float, scale_bits: int, fenv: FloatEnv = _FENV):
    """Mel filterbank tables, re-deriving tflite_micro filter_bank_ops.

    Returns dict(start_index, end_index, weights, unweights,
    channel_frequency_starts, channel_weight_starts, channel_widths).
    """
    item_size = 2
    index_alignment = 1 if alignment < item_size else int(alignment / item_size)
    nch1 = num_channels + 1
    ch_freq_starts = np.zeros(nch1, np.int16)
    ch_weight_starts = np.zeros(nch1, np.int16)
    ch_widths = np.zeros(nch1, np.int16)
    act_starts = np.zeros(nch1, np.int64)
    act_widths = np.zeros(nch1, np.int64)

    if lower < 0 or lower > upper:
        raise ValueError("bad band limits")
    mel_lower = freq_to_mel_f32(lower, fenv)
    mel_upper = freq_to_mel_f32(upper, fenv)
    mel_spacing = _f32(_f32(mel_upper - mel_lower) / _f32(nch1))
    center = np.array([_f32(mel_lower + _f32(mel_spacing * _f32(c)))
                       for c in range(1, nch1 + 1)], np.float32)

    hz_per_sbin = (sample_rate / 2) / (spectrum_size - 1)      # float64
    start_index = round(1 + (lower / hz_per_sbin))             # Python round

    chan_start = start_index
    weight_index_start = 0
    needs_zeros = False
    for ch in range(nch1):
        fi = chan_start
        while freq_to_mel_f32(fi * hz_per_sbin, fenv) <= center[ch]:
            fi += 1
        width = fi - chan_start
        act_starts[ch] = chan_start
        act_widths[ch] = width
        if width == 0:
            ch_freq_starts[ch] = 0
            ch_weight_starts[ch] = 0
            ch_widths[ch] = block_size
            if not needs_zeros:
                needs_zeros = True
                for j in range(ch):
                    ch_weight_starts[j] += block_size
                weight_index_start += block_size
        else:
            aligned_start = (chan_start // index_alignment) * index_alignment
            aligned_width = chan_start - aligned_start + width
            padded = ((aligned_width - 1) // block_size + 1) * block_size
            ch_freq_starts[ch] = aligned_start
            ch_weight_starts[ch] = weight_index_start
            ch_widths[ch] = padded
            weight_index_start += padded
        chan_start = fi

    weights = np.zeros(weight_index_start, np.int16)
    unweights = np.zeros(weight_index_start, np.int16)
    end_index = 0
    mel_low = freq_to_mel_f32(lower, fenv)
    for ch in range(nch1):
        freq = int(act_starts[ch])
        offset = freq - int(ch_freq_starts[ch])
        wstart = int(ch_weight_starts[ch])
        denom_val = mel_low if ch == 0 else center[ch - 1]
        for j in range(int(act_widths[ch])):
            num = _f32(center[ch] - freq_to_mel_f32(freq * hz_per_sbin, fenv))
            den = _f32(center[ch] - denom_val)
            w = _f32(num / den)
            weights[wstart + offset + j] = int(float(w) * (1 << scale_bits))
            unweights[wstart + offset + j] = int(float(_f32(1) - w) * (1 << scale_bits))
            freq += 1
        if freq > end_index:
            end_index = freq
    if end_index >= spectrum_size:
        raise ValueError("upper band limit too high for this FFT size")
    return dict(start_index=int(start_index), end_index=int(end_index),
                weights=weights, unweights=unweights,
                channel_frequency_starts=ch_freq_starts,
                channel_weight_starts=ch_weight_starts,
                channel_widths=ch_widths)


def pcan_gain_lut(strength: float, offset: float, input_bits: int,
                  gain_bits: int, fenv: FloatEnv = _FENV) -> np.ndarray:
    """PCAN wide-dynamic-function LUT (125 int16), as the TFLM generator."""
    st = _f32(strength)
    off = _f32(offset)

    def gain(x: int) -> int:
        xf = _f32(_f32(x) / _f32(1 << input_bits))
        g = _f32(_f32(1 << gain_bits) * fenv.powf(_f32(xf + off), _f32(-st)))
        if g > 32767:
            return 32767
        return int(_f32(g + _f32(0.5)))        # trunc toward zero

    def i16(v: int) -> int:
        return ((v + 32768) & 0xFFFF) - 32768

    lut = np.zeros(4 * 32 - 3 + 1, np.int16)
    lut[0] = gain(0)
    lut[1] = gain(1)
    for interval in range(2, 33):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == 32 else 2 * x0
        y0, y1, y2 = gain(x0), gain(x1), gain(x2)
        d1 = i16(y1 - y0)
        d2 = i16(y2 - y0)
        a1 = 4 * d1 - d2
        a2 = d2 - a1
        b = 4 * interval - 6
        lut[b] = y0
        lut[b + 1] = i16(a1)
        lut[b + 2] = i16(a2)
        lut[b + 3] = 0
    return lut[:125].copy()


def log_lut() -> np.ndarray:
    """130-entry log2 correction table: round(65536*(log2(1+i/128) - i/128)).

    Entries 128 and 129 are 0 (end point and padding).
    """
    i = np.arange(129)
    v = np.log2(1.0 + i / 128.0) - i / 128.0
    lut = np.floor(v * 65536 + 0.5).astype(np.int64)
    return np.concatenate([lut, [0]]).astype(np.uint16)


@dataclass(frozen=True)
class Tables:
    window: np.ndarray              # int16 [window_length]
    fft_twiddles: np.ndarray        # int16 [ncfft, 2]
    rfft_twiddles: np.ndarray       # int16 [ncfft/2, 2]
    fft_perm: np.ndarray            # int64 [ncfft]
    fft_factors: tuple              # ((p, m), ...)
    start_index: int
    end_index: int
    fb_weights: np.ndarray
    fb_unweights: np.ndarray
    fb_freq_starts: np.ndarray
    fb_weight_starts: np.ndarray
    fb_widths: np.ndarray
    pcan_lut: np.ndarray            # int16 [125]
    log_lut: np.ndarray             # uint16 [130]


@lru_cache(maxsize=32)
def make_tables(params: FrontendParams = DEFAULT_PARAMS,
                fenv: FloatEnv = _FENV) -> Tables:
    """All constant tables for a parameter set (build-time step)."""
    p = params
    ncfft = p.fft_length // 2
    fb = filterbank_tables(p.spectrum_size, p.sample_rate,
                           p.filter_bank_alignment,
                           p.filter_bank_channel_block_size, p.num_channels,
                           p.lower_band_limit_hz, p.upper_band_limit_hz,
                           p.filter_bank_scaling_bits, fenv)
    input_bits = p.pcan_smoothing_bits - p.correction_bits
    if input_bits < 0:
        raise ValueError("pcan_smoothing_bits < correction_bits")
    return Tables(
        window=hann_window_q(p.window_length, p.window_scaling_bits, fenv),
        fft_twiddles=fft_twiddles_q15(ncfft, fenv),
        rfft_twiddles=rfft_super_twiddles_q15(ncfft, fenv),
        fft_perm=fft_input_permutation(ncfft),
        fft_factors=tuple(fft_factors(ncfft)),
        start_index=fb["start_index"], end_index=fb["end_index"],
        fb_weights=fb["weights"], fb_unweights=fb["unweights"],
        fb_freq_starts=fb["channel_frequency_starts"],
        fb_weight_starts=fb["channel_weight_starts"],
        fb_widths=fb["channel_widths"],
        pcan_lut=pcan_gain_lut(p.pcan_strength, p.pcan_offset, input_bits,
                               p.pcan_gain_bits, fenv),
        log_lut=log_lut(),
    )


def _tables_equal(a: Tables, b: Tables) -> dict:
    out = {}
    for k in a.__dataclass_fields__:
        va, vb = getattr(a, k), getattr(b, k)
        if isinstance(va, np.ndarray):
            out[k] = va.shape == vb.shape and bool(np.array_equal(va, vb))
        else:
            out[k] = va == vb
    return out


def check_table_robustness(params: FrontendParams = DEFAULT_PARAMS,
                           ulps: int = 2, host_libm: bool = True) -> dict:
    """Regenerate the tables with each transcendental function nudged by
    +-1..ulps ulp (and with the host C library's log1pf/powf) and report,
    per table, whether the result never changed.  All True means the tables
    are the same whatever (reasonable) libm the TFLM generator ran on."""
    ref = make_tables(params)
    stable = {k: True for k in ref.__dataclass_fields__}
    envs = [FloatEnv({fn: k}) for fn in ("log1pf", "powf", "window_cos", "twiddle")
            for k in range(-ulps, ulps + 1) if k]
    if host_libm:
        envs.append(FloatEnv(host_libm=True))
    for env in envs:
        for k, eq in _tables_equal(ref, make_tables(params, env)).items():
            stable[k] = stable[k] and eq
    return stable


# --------------------------------------------------------------------------
# Integer helpers (operate on int64 numpy arrays)
# --------------------------------------------------------------------------

def _w16(x):
    """Wrap to int16 (two's complement truncation, as a C store to int16)."""
    return ((x + 32768) & 0xFFFF) - 32768


def _sround(x):
    """kiss_fft 'sround': (x + 2^14) >> 15, stored to int16."""
    return _w16((x + 16384) >> 15)


def _fixdiv(x, k):
    """kiss_fft C_FIXDIV on one component: x * (32767 // k), rounded Q15."""
    return _sround(x * (32767 // k))


def _cmul(ar, ai, br, bi):
    return _sround(ar * br - ai * bi), _sround(ar * bi + ai * br)


# --------------------------------------------------------------------------
# Stage 1: window, auto-scale, rfft, energy, filterbank, sqrt
# --------------------------------------------------------------------------

def frame_signal(pcm: np.ndarray, params: FrontendParams = DEFAULT_PARAMS,
                 num_frames: int | None = None) -> np.ndarray:
    """[frames, window_length] int16 windows taken every window_step samples."""
    pcm = np.asarray(pcm, np.int16).reshape(-1)
    L, S = params.window_length, params.window_step
    if num_frames is None:
        num_frames = 0 if len(pcm) < L else 1 + (len(pcm) - L) // S
    return np.stack([pcm[i * S:i * S + L] for i in range(num_frames)]) \
        if num_frames else np.zeros((0, L), np.int16)


def _window(frames, t: Tables, shift: int):
    raw = (frames.astype(np.int64) * t.window.astype(np.int64)) >> shift
    return np.clip(raw, -32768, 32767)


def _max_abs16(row) -> int:
    """TFLM MaxAbs16, including its int16 quirk: once a sample of -32768 is
    seen, `max = -value` stores 32768 into an int16, i.e. -32768, after which
    any later sample compares greater.  Returns the (int16) result."""
    if -32768 not in row:
        return int(np.max(np.abs(row))) if len(row) else 0
    mx = 0
    for v in row.tolist():
        if v > mx:
            mx = v
        elif -v > mx:
            mx = ((-v + 32768) & 0xFFFF) - 32768
    return mx


def _auto_scale(x):
    """FFT auto-scale: returns (scaled int16 values, scale_bits per frame)."""
    bits = np.zeros(x.shape[0], np.int64)
    for f in range(x.shape[0]):
        mx = _max_abs16(x[f])
        msb = 32 if mx <= 0 else int(mx).bit_length()   # MSB32 of (uint32)max
        # (uint32)(negative int16) has 32 significant bits; MSB32(0) == 32
        b = 16 - msb - 1
        bits[f] = b if b > 0 else 0
    return _w16(x * (np.int64(1) << bits)[:, None]), bits


def _complex_fft(xr, xi, t: Tables):
    """Fixed-point radix-4/2 decimation-in-time complex FFT, vectorised over
    frames.  Same butterflies, scaling and rounding as the TFLM kernel."""
    n = xr.shape[1]
    F = xr.shape[0]
    fr = xr[:, t.fft_perm].copy()
    fi = xi[:, t.fft_perm].copy()
    twr = t.fft_twiddles[:, 0].astype(np.int64)
    twi = t.fft_twiddles[:, 1].astype(np.int64)
    facs = list(t.fft_factors)
    # fstride at level k = product of radices above it
    fstrides = [1]
    for p, _ in facs[:-1]:
        fstrides.append(fstrides[-1] * p)
    for level in range(len(facs) - 1, -1, -1):
        p, m = facs[level]
        fs = fstrides[level]
        R = fr.reshape(F, fs, p, m)
        I = fi.reshape(F, fs, p, m)
        u = np.arange(m)
        if p == 2:
            a_r, a_i = _fixdiv(R[:, :, 0], 2), _fixdiv(I[:, :, 0], 2)
            b_r, b_i = _fixdiv(R[:, :, 1], 2), _fixdiv(I[:, :, 1], 2)
            tr, ti = _cmul(b_r, b_i, twr[u * fs], twi[u * fs])
            R[:, :, 1] = _w16(a_r - tr)
            I[:, :, 1] = _w16(a_i - ti)
            R[:, :, 0] = _w16(a_r + tr)
            I[:, :, 0] = _w16(a_i + ti)
        elif p == 4:
            f0r, f0i = _fixdiv(R[:, :, 0], 4), _fixdiv(I[:, :, 0], 4)
            f1r, f1i = _fixdiv(R[:, :, 1], 4), _fixdiv(I[:, :, 1], 4)
            f2r, f2i = _fixdiv(R[:, :, 2], 4), _fixdiv(I[:, :, 2], 4)
            f3r, f3i = _fixdiv(R[:, :, 3], 4), _fixdiv(I[:, :, 3], 4)
            s0r, s0i = _cmul(f1r, f1i, twr[u * fs], twi[u * fs])
            s1r, s1i = _cmul(f2r, f2i, twr[2 * u * fs], twi[2 * u * fs])
            s2r, s2i = _cmul(f3r, f3i, twr[3 * u * fs], twi[3 * u * fs])
            s5r, s5i = _w16(f0r - s1r), _w16(f0i - s1i)
            f0r, f0i = _w16(f0r + s1r), _w16(f0i + s1i)
            s3r, s3i = _w16(s0r + s2r), _w16(s0i + s2i)
            s4r, s4i = _w16(s0r - s2r), _w16(s0i - s2i)
            R[:, :, 2] = _w16(f0r - s3r)
            I[:, :, 2] = _w16(f0i - s3i)
            R[:, :, 0] = _w16(f0r + s3r)
            I[:, :, 0] = _w16(f0i + s3i)
            R[:, :, 1] = _w16(s5r + s4i)
            I[:, :, 1] = _w16(s5i - s4r)
            R[:, :, 3] = _w16(s5r - s4i)
            I[:, :, 3] = _w16(s5i + s4r)
        else:  # pragma: no cover
            raise NotImplementedError(p)
    return fr, fi


def _rfft(x, t: Tables):
    """Real FFT of int16 frames [F, fft_length] -> (re, im) [F, n/2+1]."""
    F, n = x.shape
    N = n // 2
    zr, zi = _complex_fft(x[:, 0::2].astype(np.int64), x[:, 1::2].astype(np.int64), t)
    outr = np.zeros((F, N + 1), np.int64)
    outi = np.zeros((F, N + 1), np.int64)
    dcr, dci = _fixdiv(zr[:, 0], 2), _fixdiv(zi[:, 0], 2)
    outr[:, 0] = _w16(dcr + dci)
    outr[:, N] = _w16(dcr - dci)
    k = np.arange(1, N // 2 + 1)
    pkr, pki = _fixdiv(zr[:, k], 2), _fixdiv(zi[:, k], 2)
    pnr = _fixdiv(zr[:, N - k], 2)
    pni = _fixdiv(_w16(-zi[:, N - k]), 2)
    f1r, f1i = _w16(pkr + pnr), _w16(pki + pni)
    f2r, f2i = _w16(pkr - pnr), _w16(pki - pni)
    stw = t.rfft_twiddles.astype(np.int64)
    twr, twi = _cmul(f2r, f2i, stw[k - 1, 0], stw[k - 1, 1])
    outr[:, k] = _w16((f1r + twr) >> 1)
    outi[:, k] = _w16((f1i + twi) >> 1)
    outr[:, N - k] = _w16((f1r - twr) >> 1)     # k == N/2 overwritten here,
    outi[:, N - k] = _w16((twi - f1i) >> 1)     # exactly as the C loop does
    return outr, outi


def _isqrt_round(v: np.ndarray) -> np.ndarray:
    """TFLM Sqrt64: floor sqrt, +1 if remainder > root (with the 16-bit cap
    of the Sqrt32 path for inputs < 2^32)."""
    flat = v.reshape(-1)
    out = np.empty(flat.shape, np.uint64)
    for i, n in enumerate(flat.tolist()):
        r = math.isqrt(n)
        rem = n - r * r
        if n < (1 << 32):
            if rem > r and r != 0xFFFF:
                r += 1
        else:
            if rem > r and r != 0xFFFFFFFF:
                r += 1
        out[i] = r & 0xFFFFFFFF
    return out.reshape(v.shape)


def fft_stages(frames: np.ndarray, params: FrontendParams = DEFAULT_PARAMS,
               tables: Tables | None = None):
    """All intermediate results of the fft block for [F, window_length]
    int16 frames.  Returns a dict of numpy arrays (for debugging / tests).
    `tables` overrides make_tables(params) (tests use e.g. a flat window)."""
    p = params
    t = make_tables(p) if tables is None else tables
    frames = np.asarray(frames, np.int16)
    if frames.ndim == 1:
        frames = frames[None, :]
    F, L = frames.shape
    if L != p.window_length:
        raise ValueError(f"frames must have {p.window_length} samples")
    win = _window(frames, t, p.window_scaling_bits)
    scaled, bits = _auto_scale(win)
    x = np.zeros((F, p.fft_length), np.int64)
    x[:, :L] = scaled
    re, im = _rfft(x, t)
    energy = ((re * re + im * im) & 0xFFFFFFFF).astype(np.uint64)
    energy[:, :t.start_index] = 0
    energy[:, t.end_index:] = 0
    # filterbank: dense (num_channels+1) x spectrum weight matrices
    C1 = p.num_channels + 1
    S = p.spectrum_size
    Wm = np.zeros((C1, S), np.uint64)
    Um = np.zeros((C1, S), np.uint64)
    for c in range(C1):
        fs, ws, wd = int(t.fb_freq_starts[c]), int(t.fb_weight_starts[c]), int(t.fb_widths[c])
        for j in range(wd):
            Wm[c, fs + j] += np.uint64(int(t.fb_weights[ws + j]) & 0xFFFFFFFFFFFFFFFF)
            Um[c, fs + j] += np.uint64(int(t.fb_unweights[ws + j]) & 0xFFFFFFFFFFFFFFFF)
    wsum = energy @ Wm.T          # uint64 [F, C1]
    usum = energy @ Um.T
    acc = wsum.copy()
    acc[:, 1:] += usum[:, :-1]
    fb = acc[:, 1:]
    sq = _isqrt_round(fb)
    out = (sq >> bits.astype(np.uint64)[:, None]).astype(np.uint32)
    return dict(window=win.astype(np.int16), scaled=scaled.astype(np.int16),
                scale_bits=bits.astype(np.int32),
                rfft=np.stack([re, im], -1).reshape(F, -1).astype(np.int16),
                energy=energy.astype(np.uint32), filterbank=fb,
                sqrt=out)


def fft(pcm_i16, params: FrontendParams | None = None, *, framed: bool = False,
        num_frames: int | None = None, **kw) -> np.ndarray:
    """Block 1: i16 PCM -> u32 filterbank energies [frames, channels].

    pcm_i16: 1-D PCM (framed with window_length / window_step) or, with
    framed=True, an array [frames, window_length].
    Stateless: every frame is independent.
    """
    p = _params(params, kw)
    frames = np.asarray(pcm_i16, np.int16)
    if not framed:
        frames = frame_signal(frames, p, num_frames)
    if frames.shape[0] == 0:
        return np.zeros((0, p.num_channels), np.uint32)
    return fft_stages(frames, p)["sqrt"]


# --------------------------------------------------------------------------
# Stage 2: spectral subtraction, PCAN, log, int8
# --------------------------------------------------------------------------

class NoiseState:
    """Per-channel noise estimate (u32).  Zero = TFLM state after reset."""

    def __init__(self, num_channels: int):
        self.noise = np.zeros(num_channels, np.uint64)

    def reset(self):
        self.noise[:] = 0


def _msb32(x):
    """Number of significant bits (1..32) of uint values > 0."""
    x = np.asarray(x, np.uint64)
    r = np.zeros(x.shape, np.int64)
    for b in range(32, 0, -1):
        m = (r == 0) & ((x >> np.uint64(b - 1)) & np.uint64(1)).astype(bool)
        r[m] = b
    return r


def _wide_dynamic(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """PCAN gain lookup (piecewise quadratic), returns int16 values."""
    x = x.astype(np.int64)
    lut = lut.astype(np.int64)
    out = np.zeros(x.shape, np.int64)
    small = x <= 2
    out[small] = lut[x[small]]
    big = ~small
    if np.any(big):
        xb = x[big]
        interval = _msb32(xb)
        base = 4 * interval - 6
        frac = np.where(interval < 11,
                        (xb << np.maximum(11 - interval, 0)) & 0xFFFFFFFF,
                        xb >> np.maximum(interval - 11, 0)) & 0x3FF
        l0, l1, l2 = lut[base], lut[base + 1], lut[base + 2]
        res = (l2 * frac) >> 5
        res = res + l1 * 32
        res = res * frac
        res = ((res + 0x80000000) & 0xFFFFFFFF) - 0x80000000   # int32 wrap
        res = res + (1 << 14)
        res = ((res + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        res = res >> 15
        res = res + l0
        out[big] = _w16(res)
    return out


def noise_filtering_stages(energies_u32, params: FrontendParams = DEFAULT_PARAMS,
                           state: NoiseState | None = None):
    """All intermediates of block 2 for [F, channels] u32 input."""
    p = params
    t = make_tables(p)
    e = np.asarray(energies_u32).astype(np.uint64).reshape(-1, p.num_channels)
    F, C = e.shape
    if state is None:
        state = NoiseState(C)
    s, oms, a, oma, msr = p.smoothing_q
    sm = np.array([s if (i & 1) == 0 else a for i in range(C)], np.uint64)
    om = np.array([oms if (i & 1) == 0 else oma for i in range(C)], np.uint64)
    sb = np.uint64(p.noise_smoothing_bits)
    ssb = np.uint64(p.spectral_subtraction_bits)
    M32 = np.uint64(0xFFFFFFFF)
    ss_out = np.zeros((F, C), np.uint64)
    noise_out = np.zeros((F, C), np.uint64)
    noise = state.noise
    for f in range(F):
        x = e[f]
        up = (x << sb) & M32
        noise = ((up * sm + noise * om) >> ssb) & M32
        est = np.minimum(noise, up)
        if p.clamping:
            noise = est.copy()
        floor = ((x * np.uint64(msr)) >> ssb) & M32
        sub = (up - est) >> sb
        ss_out[f] = np.maximum(sub, floor)
        noise_out[f] = noise
    state.noise[:] = noise
    # PCAN
    if p.pcan_enabled:
        g = (_wide_dynamic(noise_out, t.pcan_lut) & 0xFFFFFFFF).astype(np.uint64)
        snr = ((ss_out * g) >> np.uint64(p.pcan_snr_shift)) & M32
        kS, kO = 12, 6
        small = snr < (2 << kS)
        sq = (snr * snr) & M32
        pc = np.where(small, sq >> np.uint64(2 + 2 * kS - kO),
                      ((snr >> np.uint64(kS - kO)) - np.uint64(1 << kO)) & M32)
    else:
        pc = ss_out
    # log
    scaled = (pc << np.uint64(p.correction_bits)) & M32
    logv = _log32(scaled, 1 << p.log_scale_bits, t.log_lut)
    logv = np.where(scaled > 1, np.minimum(logv, 32767), 0).astype(np.int64)
    # int8
    v = logv * p.output_scale + p.output_div // 2
    v = np.sign(v) * (np.abs(v) // p.output_div)    # C / TFLM DIV: truncation
    v = np.clip(v + p.output_offset, -128, 127).astype(np.int8)
    return dict(spectral_subtraction=ss_out.astype(np.uint32),
                noise_estimate=noise_out.astype(np.uint32),
                pcan=pc.astype(np.uint32), log=logv.astype(np.int16),
                features=v)


def _log32(x: np.ndarray, out_scale: int, lut: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    safe = np.maximum(x, np.uint64(2))
    integer = _msb32(safe) - 1
    xs = safe.astype(np.int64)
    frac = xs - (np.int64(1) << integer)
    frac = np.where(integer < 16, frac << np.maximum(16 - integer, 0),
                    frac >> np.maximum(integer - 16, 0))
    base_seg = frac >> 9
    lut = lut.astype(np.int64)
    c0 = lut[base_seg]
    c1 = lut[base_seg + 1]
    rel = ((c1 - c0) * (frac - 512 * base_seg)) >> 16
    fraction = (frac + c0 + rel) & 0xFFFFFFFF
    log2 = ((integer << 16) + fraction) & 0xFFFFFFFF
    loge = ((45426 * log2 + 32768) >> 16) & 0xFFFFFFFF
    return ((out_scale * loge + 32768) & 0xFFFFFFFF) >> 16


def noise_filtering(energies_u32, params: FrontendParams | None = None, *,
                    state: NoiseState | None = None, **kw) -> np.ndarray:
    """Block 2: u32 filterbank energies [frames, channels] -> i8 features
    [frames * channels].

    Stateful: the noise estimate carries over from frame to frame.  With
    state=None a fresh (zero) state is used, i.e. the sequence passed in is
    treated as one clip starting after a reset -- this matches a fresh TFLM
    interpreter or `Interpreter.reset()` before the first window of the clip.
    Pass a NoiseState to continue a stream across calls.
    """
    p = _params(params, kw)
    return noise_filtering_stages(energies_u32, p, state)["features"].reshape(-1)


def features(pcm_i16, params: FrontendParams | None = None, **kw) -> np.ndarray:
    """Whole pipeline for one clip (state reset at its start)."""
    p = _params(params, kw)
    return noise_filtering(fft(pcm_i16, p), p)


# --------------------------------------------------------------------------
# Streaming: each call gets only the new audio (docs/audio-features.md, "Streaming")
# --------------------------------------------------------------------------

class FftStream:
    """State of the fft block in streaming mode: the last window_length - window_step samples,
    the start of the next window.

    Fresh (all zero), it is the state after digital silence: the first window is completed
    with zeros."""

    def __init__(self, params: FrontendParams):
        self.tail = np.zeros(max(params.window_length - params.window_step, 0), np.int16)


def fft_stream(new_pcm, params: FrontendParams, state: FftStream) -> np.ndarray:
    """Block 1, streaming: the n new samples (n a multiple of window_step) give n / window_step
    new windows, each taken from the kept tail followed by the new samples, i.e. windows of the
    whole stream every window_step samples, the last ending with the newest sample. Returns only
    the new rows, u32 [n / window_step, channels], and updates `state`."""
    p = params
    pcm = np.asarray(new_pcm, np.int16).reshape(-1)
    L, S = p.window_length, p.window_step
    if len(pcm) == 0 or len(pcm) % S:
        raise ValueError(f"streaming takes whole strides of {S} samples, got {len(pcm)}")
    new = len(pcm) // S
    stream = np.concatenate([state.tail, pcm])
    rows = fft(np.stack([stream[i * S:i * S + L] for i in range(new)]), p, framed=True)
    state.tail = stream[len(stream) - len(state.tail):].copy()
    return rows.astype(np.uint32)


class NoiseStream:
    """State of the noise_filtering block in streaming mode: the noise estimate (carried from
    run to run, never reset) and the last `frames` feature rows, oldest first (the C keeps them
    in a ring; the order it outputs them in is this one).

    Fresh: a zero noise estimate, and every row the features of digital silence (what the block
    computes for an all-zero input row from a zero estimate, -128 with the default output
    quantisation; such a row leaves the estimate at zero)."""

    def __init__(self, params: FrontendParams, frames: int):
        self.noise = NoiseState(params.num_channels)
        silence = noise_filtering(np.zeros((1, params.num_channels), np.uint32), params)
        self.rows = np.tile(silence.reshape(1, -1), (frames, 1))


def noise_filtering_stream(energies_u32, params: FrontendParams, state: NoiseStream) -> np.ndarray:
    """Block 2, streaming: every row of u32 [new, channels] is new; the rows are processed with
    the carried noise estimate and appended to the kept feature rows. Returns the last `frames`
    rows, i8 [frames * channels] (the new rows last), and updates `state`."""
    p = params
    e = np.asarray(energies_u32).astype(np.uint32).reshape(-1, p.num_channels)
    frames = state.rows.shape[0]
    if not 1 <= e.shape[0] <= frames:
        raise ValueError(f"{e.shape[0]} new frames, {frames} kept")
    rows = noise_filtering(e, p, state=state.noise).reshape(e.shape[0], -1)
    state.rows = np.concatenate([state.rows[e.shape[0]:], rows])
    return state.rows.reshape(-1).copy()


# --------------------------------------------------------------------------
# Build step: the constants the C implementation reads (blocks' derive.py)
# --------------------------------------------------------------------------

def c_config_values(params: FrontendParams = DEFAULT_PARAMS,
                    tables: Tables | None = None) -> dict:
    """Scalar fields of af_fft_config / af_nf_config for a parameter set."""
    p = params
    t = make_tables(p) if tables is None else tables
    s, oms, a, oma, msr = p.smoothing_q
    return dict(
        fft=dict(window_length=p.window_length,
                 window_shift=p.window_scaling_bits,
                 fft_length=p.fft_length, start_index=t.start_index,
                 end_index=t.end_index, num_channels=p.num_channels,
                 fb_num_weights=len(t.fb_weights)),
        nf=dict(num_channels=p.num_channels, smoothing=s,
                one_minus_smoothing=oms, alt_smoothing=a,
                alt_one_minus_smoothing=oma, min_signal_remaining=msr,
                smoothing_bits=p.noise_smoothing_bits,
                spectral_subtraction_bits=p.spectral_subtraction_bits,
                clamping=int(p.clamping), pcan_enabled=int(p.pcan_enabled),
                pcan_snr_shift=p.pcan_snr_shift,
                log_correction_bits=p.correction_bits,
                log_output_scale=1 << p.log_scale_bits,
                out_scale=p.output_scale, out_div=p.output_div,
                out_offset=p.output_offset))


def fft_params(args: dict) -> FrontendParams:
    """FrontendParams from the arguments of the `fft` block."""
    return replace(DEFAULT_PARAMS, sample_rate=int(args["sample_rate"]),
                   window_size_ms=int(args["window_size_ms"]),
                   window_stride_ms=int(args["window_stride_ms"]),
                   num_channels=int(args["num_channels"]),
                   lower_band_limit_hz=float(args["lower_band_limit"]),
                   upper_band_limit_hz=float(args["upper_band_limit"]))


def noise_params(args: dict, num_channels: int) -> FrontendParams:
    """FrontendParams from the arguments of the `noise_filtering` block.

    correction_bits is fft_bits - filter_bank_scaling_bits / 2 in the TFLM generator; the block
    takes it directly, so the window length is chosen to give that FFT size.
    """
    fft_bits = int(args["correction_bits"]) + DEFAULT_PARAMS.filter_bank_scaling_bits // 2
    window_ms = (1 << fft_bits) * 1000 // DEFAULT_PARAMS.sample_rate
    return replace(DEFAULT_PARAMS, num_channels=num_channels, window_size_ms=window_ms,
                   noise_smoothing_bits=int(args["smoothing_bits"]),
                   pcan_smoothing_bits=int(args["smoothing_bits"]),
                   even_smoothing=float(args["even_smoothing"]),
                   odd_smoothing=float(args["odd_smoothing"]),
                   min_signal_remaining=float(args["min_signal_remaining"]),
                   clamping=bool(args["clamping"]), pcan_enabled=bool(args["pcan"]),
                   pcan_strength=float(args["strength"]), pcan_offset=float(args["offset"]),
                   pcan_gain_bits=int(args["gain_bits"]))
