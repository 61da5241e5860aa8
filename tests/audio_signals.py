"""Deterministic one-second 16 kHz int16 test signals for the audio feature tests."""
from __future__ import annotations

import numpy as np

SR = 16000
N = 16000
_t = np.arange(N) / SR


def _q(x) -> np.ndarray:
    """Round and clip a float signal to int16."""
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def tone(freq: float, amp: float, phase: float = 0.0) -> np.ndarray:
    return _q(amp * np.sin(2 * np.pi * freq * _t + phase))


def chirp(f0: float, f1: float, amp: float, log: bool = False) -> np.ndarray:
    if log:
        k = (f1 / f0) ** (1 / _t[-1])
        ph = 2 * np.pi * f0 * (k ** _t - 1) / np.log(k)
    else:
        ph = 2 * np.pi * (f0 * _t + 0.5 * (f1 - f0) * _t ** 2 / _t[-1])
    return _q(amp * np.sin(ph))


def white(seed: int, std: float) -> np.ndarray:
    return _q(np.random.default_rng(seed).normal(0, std, N))


def uniform_full(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-32768, 32768, N).astype(np.int16)


def square(freq: float, hi: int = 32767, lo: int = -32768) -> np.ndarray:
    return np.where(np.sin(2 * np.pi * freq * _t) >= 0, hi, lo).astype(np.int16)


def dc(level: int) -> np.ndarray:
    return np.full(N, level, np.int16)


def clipped_tone(freq: float, amp: float) -> np.ndarray:
    return _q(amp * np.sin(2 * np.pi * freq * _t))


def all_signals() -> dict[str, np.ndarray]:
    s: dict[str, np.ndarray] = {}
    for f in (60, 125, 440, 1000, 2500, 4000, 6000, 7500, 7999):
        for a in (30, 1000, 12000, 32767):
            s[f"tone_{f}Hz_a{a}"] = tone(f, a)
    s["chirp_lin_20_8000"] = chirp(20, 8000, 20000)
    s["chirp_lin_8000_20_full"] = chirp(8000, 20, 32767)
    s["chirp_log_50_7900"] = chirp(50, 7900, 8000, log=True)
    s["chirp_lin_quiet"] = chirp(100, 7000, 50)
    for seed in range(5):
        s[f"white_seed{seed}_std3000"] = white(seed, 3000)
    s["white_seed10_std100"] = white(10, 100)
    s["white_seed11_std20000_clipped"] = white(11, 20000)
    s["uniform_full_seed12"] = uniform_full(12)
    for f in (50, 1000, 3000):
        s[f"square_{f}Hz_full"] = square(f)
        s[f"square_{f}Hz_sym"] = square(f, 32767, -32767)
    s["nyquist_alternating_full"] = np.tile(np.array([32767, -32768], np.int16), N // 2)
    s["silence"] = dc(0)
    for lvl in (1, -1, 1000, -20000, 32767, -32768):
        s[f"dc_{lvl}"] = dc(lvl)
    s["dc_5000_plus_tone"] = _q(5000 + 3000 * np.sin(2 * np.pi * 700 * _t))
    s["clip_tone_300Hz_x3"] = clipped_tone(300, 3 * 32768)
    s["clip_tone_1500Hz_x1.5"] = clipped_tone(1500, 1.5 * 32768)
    s["clip_tone_5000Hz_x10"] = clipped_tone(5000, 10 * 32768)
    imp = np.zeros(N, np.int16); imp[::400] = 32767; imp[200::400] = -32768
    s["impulses_pm_full"] = imp
    s["single_min_sample"] = np.where(np.arange(N) == 5000, -32768, 0).astype(np.int16)
    s["min_then_small"] = np.where(np.arange(N) % 480 == 239, -32768,
                                   np.where(np.arange(N) % 7 == 0, 3, 0)).astype(np.int16)
    s["burst_after_silence"] = np.concatenate([np.zeros(8000, np.int16), tone(880, 20000)[:8000]])
    return s
