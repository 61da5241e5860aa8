"""numpy reference of the fft block (bit-exact with TFLM's micro_speech front end)."""

import frontend


def run(inputs, args, state):
    params = frontend.fft_params(args)
    if not args.get("num_frames"):  # one clip: every window of the input
        return [frontend.fft(inputs[0].reshape(-1), params)]
    # streaming: the input is the new audio, the output only the new frames; the tail is kept in `state`
    if inputs[0].size // params.window_step > int(args["num_frames"]):
        raise ValueError(f"more new frames than the num_frames ({args['num_frames']}) kept")
    if "stream" not in state:
        state["stream"] = frontend.FftStream(params)
    return [frontend.fft_stream(inputs[0].reshape(-1), params, state["stream"])]
