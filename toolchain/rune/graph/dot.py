"""A pipeline as a Graphviz DOT graph: stages coloured by kind, edges labelled with the tensor
that flows along them."""

from __future__ import annotations

import json

COLOURS = {"capability": "#d5f5d5", "proc-block": "#d6e6fb", "model": "#fde3c2", "out": "#e6e6e6"}
SHAPES = {"capability": "invhouse", "proc-block": "box", "model": "box3d", "out": "house"}


def _quote(text: str) -> str:
    return json.dumps(str(text))  # a valid DOT string: escaped quotes and backslashes


def _tensor(entry: dict) -> str:
    return f"{entry['type']}[{', '.join(map(str, entry['dimensions']))}]"


def to_dot(name: str, stages: list[dict]) -> str:
    """`stages` as in a .rune manifest: name, kind, target, inputs, outputs (and block)."""
    by_name = {s["name"]: s for s in stages}
    lines = [f"digraph {_quote(name)} {{", "  rankdir=LR;",
             '  node [style="filled,rounded", fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for s in stages:
        kind = s["kind"]
        detail = s.get("block") or s["target"]
        label = f"{s['name']}\\n{kind}: {detail}" if detail != s["name"] else f"{s['name']}\\n{kind}"
        lines.append(f"  {_quote(s['name'])} [label=\"{label.replace(chr(34), '')}\", shape={SHAPES[kind]}, "
                     f"fillcolor=\"{COLOURS[kind]}\"];")
    for s in stages:
        for ref in s["inputs"]:
            producer = by_name[ref["stage"]]
            tensor = producer["outputs"][ref["output"]]
            label = _tensor(tensor) if ref["output"] == 0 else f"#{ref['output']}: {_tensor(tensor)}"
            lines.append(f"  {_quote(ref['stage'])} -> {_quote(s['name'])} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
