"""The fft block's tables, computed at build time exactly as TFLM's generator computes them."""

import frontend


def twiddles_used(n: int) -> int:
    """How many of the n complex twiddles the n-point FFT reads: a radix-r stage of
    `frontend.fft_factors` (audio_frontend.c's plan) with m-point sub-transforms `stride` apart reads
    twiddle (r - 1) * (m - 1) * stride at most. The rest need not be stored."""
    used, stride = 1, 1
    for radix, m in frontend.fft_factors(n):
        used = max(used, (radix - 1) * (m - 1) * stride + 1)
        stride *= radix
    return used


def derive(args):
    params = frontend.fft_params(args)
    if not 64 <= params.fft_length <= 2048:  # the block's checks report it; tables are not needed
        return {"window_length": params.window_length, "window_step": params.window_step,
                "fft_length": params.fft_length, "start_index": 0, "end_index": 0, "window_symmetric": False,
                **{name: [] for name in ("window", "fft_twiddles", "rfft_twiddles", "fb_weights", "fb_unweights",
                                         "fb_freq_starts", "fb_weight_starts", "fb_widths")}}
    t = frontend.make_tables(params)
    # The Hann window is symmetric; half of it is stored when the computed table is exactly so.
    symmetric = bool((t.window == t.window[::-1]).all())
    return {
        "window_length": params.window_length, "window_step": params.window_step,
        "fft_length": params.fft_length, "start_index": t.start_index, "end_index": t.end_index,
        "window_symmetric": symmetric,
        "window": t.window[: (len(t.window) + 1) // 2] if symmetric else t.window, "fft_twiddles": t.fft_twiddles[: twiddles_used(params.fft_length // 2)],  # rows of (re, im)
        "rfft_twiddles": t.rfft_twiddles,
        "fb_weights": t.fb_weights, "fb_unweights": t.fb_unweights, "fb_freq_starts": t.fb_freq_starts,
        "fb_weight_starts": t.fb_weight_starts, "fb_widths": t.fb_widths,
    }
