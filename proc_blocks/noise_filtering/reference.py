"""numpy reference of the noise_filtering block (bit-exact with TFLM's micro_speech front end)."""

import frontend


def run(inputs, args):
    energies = inputs[0].reshape(-1, inputs[0].shape[-1])
    return [frontend.noise_filtering(energies, frontend.noise_params(args, energies.shape[1]))]
