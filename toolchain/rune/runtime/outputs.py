"""A rune's outputs and their one canonical SERIAL JSON rendering (docs/abi.md, "Outputs").

    {"type_name":"f32","channel":0,"elements":[0.486],"dimensions":[1,1]}

Floats are written with the fewest significant digits that read back as the same value of the
element type (C's "%.*g" with the smallest such precision), non-finite floats as the strings
"NaN", "Infinity" and "-Infinity"; strings as JSON strings, invalid UTF-8 bytes each as U+FFFD.
The firmware writes exactly the same bytes.
"""

from __future__ import annotations

import codecs
import json
import math
from dataclasses import dataclass

import numpy as np

codecs.register_error("rune_per_byte", lambda e: ("\ufffd", e.start + 1))

# The largest f32 plus half a unit in the last place: doubles at or beyond it round to infinity.
F32_OVERFLOW = 3.4028235677973366e38


@dataclass
class Output:
    channel: int
    stage: str  # the out stage
    source: str  # the stage that produced the tensor
    type_name: str
    dimensions: list[int]
    value: np.ndarray | list[str]  # numeric tensors in their shape; utf8 tensors as a flat list

    def json_line(self) -> str:
        return json_line(self.type_name, self.channel, self.value, self.dimensions)

    def elements(self) -> list:
        return list(self.value) if isinstance(self.value, list) else self.value.reshape(-1).tolist()


def decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="rune_per_byte")


def format_float(value: float, precision_limit: int, single: bool) -> str:
    if value != value:
        return '"NaN"'
    if value in (float("inf"), float("-inf")):
        return '"Infinity"' if value > 0 else '"-Infinity"'
    target = np.float32(value) if single else value
    for precision in range(1, precision_limit + 1):
        text = "%.*g" % (precision, value)
        back = float(text)
        if single:
            # A text can round past the largest f32 ("3.403e+38"): such a text does not read back,
            # and numpy would warn about the overflow, so it is not converted.
            if abs(back) < F32_OVERFLOW and np.float32(back) == target:
                return text
        elif back == target:
            return text
    return "%.*g" % (precision_limit, value)


def format_elements(type_name: str, value) -> str:
    if type_name == "utf8":
        return ",".join(json.dumps(s, ensure_ascii=False) for s in value)
    flat = value.reshape(-1)
    if type_name == "f32":
        return ",".join(format_float(float(v), 9, True) for v in flat)
    if type_name == "f64":
        return ",".join(format_float(float(v), 17, False) for v in flat)
    return ",".join(str(int(v)) for v in flat.tolist())


def json_line(type_name: str, channel: int, value, dimensions) -> str:
    return (f'{{"type_name":"{type_name}","channel":{channel},"elements":[{format_elements(type_name, value)}],'
            f'"dimensions":[{",".join(str(int(d)) for d in dimensions)}]}}')


def human(output: Output, top: int = 5, labels: list[str] | None = None) -> str:
    """A line for people: strings as they are, short tensors in full, long ones by their top scores;
    with `labels` (see score_labels), each score by its label."""
    shape = f"{output.type_name}[{', '.join(map(str, output.dimensions))}]"
    head = f"[{output.channel}] {output.source} {shape}:"
    if output.type_name == "utf8":
        return f"{head} " + ", ".join(map(printable, output.value))
    flat = output.value.reshape(-1)
    if labels is not None and len(labels) < flat.size:
        labels = None
    if flat.size <= 8:
        if labels:
            return f"{head} " + ", ".join(f"{labels[i]}={_short(v, output.type_name)}" for i, v in enumerate(flat))
        return f"{head} " + " ".join(_short(v, output.type_name) for v in flat)
    order = np.argsort(-flat.astype(np.float64), kind="stable")[:top]
    best = ", ".join(f"{labels[i] if labels else f'#{i}'}={_short(flat[i], output.type_name)}" for i in order)
    return f"{head} top {top} of {flat.size}: {best}"


def printable(text: str) -> str:
    """A string as a terminal may show it: control characters (a line break that would forge an
    output line, an escape sequence that would drive the terminal) written as JSON escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


SELECTORS = ("argmax", "most_confident_indices")  # blocks whose outputs are indices into their input


def score_labels(manifest: dict) -> dict[int, list[str]]:
    """Output channel -> the label of each element of its tensor, where the pipeline says it: the
    tensor feeds an argmax (or most_confident_indices) stage whose indices a label stage turns into
    words, so element i is what labels[i] names. Channels without such a chain, or with label stages
    that disagree, are left out."""
    stages = manifest["stages"]
    labelled: dict[tuple[str, int], list[list[str]]] = {}
    for selector in stages:
        if selector.get("block") not in SELECTORS or len(selector["inputs"]) != 1:
            continue
        scores = selector["inputs"][0]
        for stage in stages:
            words = stage.get("args", {}).get("labels")
            if (stage.get("block") == "label" and [(i["stage"], i["output"]) for i in stage["inputs"]]
                    == [(selector["name"], 0)] and isinstance(words, list) and all(isinstance(w, str) for w in words)):
                labelled.setdefault((scores["stage"], scores["output"]), []).append(words)
    result = {}
    for out in manifest["outputs"]:
        candidates = labelled.get((out["source"]["stage"], out["source"]["output"]), [])
        words = candidates[0] if candidates and all(c == candidates[0] for c in candidates) else None
        if words and out["type"] != "utf8" and len(words) >= math.prod(out["dimensions"]):
            result[out["channel"]] = words
    return result


def _short(value, type_name: str) -> str:
    if type_name in ("f32", "f64"):
        return f"{float(value):.4g}"
    return str(int(value))
