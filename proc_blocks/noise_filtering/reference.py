"""numpy reference of the noise_filtering block (bit-exact with TFLM's micro_speech front end)."""

import frontend


def run(inputs, args, state):
    energies = inputs[0].reshape(-1, inputs[0].shape[-1])
    params = frontend.noise_params(args, energies.shape[1])
    if not args.get("num_frames"):  # one clip: the noise estimate starts from zero every run
        return [frontend.noise_filtering(energies, params)]
    # streaming: every row is new; the estimate and the last num_frames feature rows kept in `state`
    if "stream" not in state:
        state["stream"] = frontend.NoiseStream(params, int(args["num_frames"]))
    return [frontend.noise_filtering_stream(energies, params, state["stream"])]
