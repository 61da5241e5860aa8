"""Load a model into TensorFlow Lite Micro and run it once, in a throwaway process.

TFLM aborts the whole process on some invalid models; the backend runs this first so that such a
model is an error message instead of a crash. Exit status 0: the model works.
"""

import sys

import numpy as np


def main(path: str) -> int:
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(path)
    for index in range(64):
        try:
            details = interpreter.get_input_details(index)
        except (IndexError, RuntimeError, ValueError):
            break
        interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), index)
    interpreter.invoke()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except Exception as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(3)
