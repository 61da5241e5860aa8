"""The noise_filtering block's constants, computed at build time as TFLM's generator computes them."""

import frontend


def derive(args):
    params = frontend.noise_params(args, num_channels=1)
    smoothing, one_minus, alt, alt_one_minus, min_signal = params.smoothing_q
    input_bits = params.pcan_smoothing_bits - params.correction_bits
    return {
        "smoothing": smoothing, "one_minus_smoothing": one_minus, "alt_smoothing": alt,
        "alt_one_minus_smoothing": alt_one_minus, "min_signal": min_signal,
        "pcan_lut": frontend.pcan_gain_lut(params.pcan_strength, params.pcan_offset, input_bits,
                                           params.pcan_gain_bits),
        "log_lut": frontend.log_lut(),
    }
