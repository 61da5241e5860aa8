"""numpy reference of the fft block (bit-exact with TFLM's micro_speech front end)."""

import frontend


def run(inputs, args, state):
    params = frontend.fft_params(args)
    if not args.get("num_frames"):  # one clip: every window of the input
        return [frontend.fft(inputs[0].reshape(-1), params)]
    # streaming: the input is the new audio; the tail and the last rows are kept in `state`
    if "stream" not in state:
        state["stream"] = frontend.FftStream(params, int(args["num_frames"]))
    return [frontend.fft_stream(inputs[0].reshape(-1), params, state["stream"])]
