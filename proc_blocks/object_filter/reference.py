"""numpy reference of the object_filter block (greedy non-maximum suppression in float32)."""

import numpy as np

f32 = np.float32


def positive(v):
    return v if v > 0 else f32(0)  # NaN becomes 0, as in the C code


def area(b):
    return positive(b[2] - b[0]) * positive(b[3] - b[1])


def iou(a, b):
    # The C code's conditionals, not min/max: they differ from Python's when a value is NaN.
    top = a[0] if a[0] > b[0] else b[0]
    left = a[1] if a[1] > b[1] else b[1]
    bottom = a[2] if a[2] < b[2] else b[2]
    right = a[3] if a[3] < b[3] else b[3]
    inter = positive(bottom - top) * positive(right - left)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else f32(0)


def run(inputs, args):
    boxes = inputs[0].reshape(-1, 4).astype(np.float32)
    scores = inputs[1].reshape(-1).astype(np.float32)
    limit = args["max_detections"]
    order = sorted((i for i in range(len(scores)) if scores[i] >= f32(args["score_threshold"])),
                   key=lambda i: (-scores[i], i))
    out = np.zeros((limit, 5), np.float32)
    kept = 0
    with np.errstate(all="ignore"):
        for i in order:
            if kept == limit:
                break
            if any(iou(out[k, :4], boxes[i]) > f32(args["iou_threshold"]) for k in range(kept)):
                continue
            out[kept, :4], out[kept, 4] = boxes[i], scores[i]
            kept += 1
    return [out, np.array([kept], np.uint32)]
