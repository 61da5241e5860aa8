"""From command-line flags to capability sources, the same for `rune run` and `rune flash`.

`--capability NAME:PATH` names a capability; otherwise the files of a kind (--sound, --image,
--accel, --raw) feed that kind's capabilities in order, or by their `source` argument; RAND
capabilities take --random SEED (a fresh seed if none is given, which the notes report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rune.runtime.errors import RunError, SourceError
from rune.runtime.sources import FILE_SOURCES, CapabilitySpec, RandomSource, Source

FLAG_KINDS = {"sound": "SOUND", "image": "IMAGE", "accel": "ACCEL", "raw": "RAW"}


def sources_from_flags(capabilities: list[CapabilitySpec], files: dict[str, list[Path]], named: list[str],
                       seed: int | None, stride_ms: int | None = None,
                       warn: Callable[[str], None] | None = None) -> tuple[dict[int, Source], list[str]]:
    """(capability index -> source, notes for the log). Flags that feed nothing are reported to
    `warn` (by default they join the notes)."""
    sources: dict[int, Source] = {}
    notes: list[str] = []
    warn = warn or notes.append

    def make(spec: CapabilitySpec, path: Path, given: str) -> Source:
        # Checked now, so that the error names the capability before anything runs.
        if not path.exists():
            raise SourceError(f"{path} does not exist", stage=spec.stage,
                              hint=f"{given} feeds the {spec.kind} capability '{spec.stage}'")
        if spec.kind == "SOUND":
            return FILE_SOURCES[spec.kind](path, stride_ms=stride_ms)
        return FILE_SOURCES[spec.kind](path)

    def capability(name: str) -> CapabilitySpec:
        for spec in capabilities:
            if spec.stage == name:
                return spec
        raise RunError(f"the rune has no capability '{name}'",
                       hint=f"capabilities: {', '.join(c.stage for c in capabilities) or 'none'}")

    for item in named:
        name, sep, value = item.partition(":")
        if not sep or not value:
            raise RunError(f"--capability expects NAME:PATH, got '{item}'")
        spec = capability(name)
        if spec.kind == "RAND":
            try:
                sources[spec.index] = RandomSource(int(value, 0))
            except ValueError:
                raise RunError(f"--capability {name}:SEED needs a whole number for a RAND capability") from None
        else:
            sources[spec.index] = make(spec, Path(value), f"--capability {item}")

    for flag, kind in FLAG_KINDS.items():
        paths = list(files.get(flag, []))
        candidates = [c for c in capabilities if c.kind == kind and c.index not in sources]
        if len(paths) > len(candidates):
            named_already = [c.stage for c in capabilities if c.kind == kind and c.index in sources]
            raise RunError(f"{len(paths)} --{flag} file(s) given, but the rune has {len(candidates)} {kind} "
                           f"capabilit{'y' if len(candidates) == 1 else 'ies'} without a source"
                           + (f" (--capability feeds {', '.join(repr(n) for n in named_already)})"
                              if named_already else ""),
                           hint=f"give each {kind} capability one file, with --{flag} or --capability NAME:PATH")
        by_number = {int(c.args["source"]): c for c in candidates if c.args.get("source") is not None}
        in_order = [c for c in candidates if c.args.get("source") is None]
        for position, path in enumerate(paths):
            spec = by_number.get(position) or (in_order.pop(0) if in_order else None)
            if spec is None:
                raise RunError(f"--{flag} file {position + 1} ({path}) matches no {kind} capability")
            sources[spec.index] = make(spec, path, f"--{flag} {path}")

    rand = [c for c in capabilities if c.kind == "RAND" and c.index not in sources]
    if rand:
        source = RandomSource(seed)
        for spec in rand:
            sources[spec.index] = source
        if seed is None:
            notes.append(f"random inputs use the seed {source.seed} (pass --random {source.seed} to repeat them)")
    elif seed is not None:
        warn(f"--random {seed} is ignored: " + ("every RAND capability has its seed from --capability"
                                                if any(c.kind == "RAND" for c in capabilities)
                                                else "the rune has no RAND capability"))
    if stride_ms and not any(c.kind == "SOUND" and c.index in sources for c in capabilities):
        why = ("no SOUND capability was given a recording" if any(c.kind == "SOUND" for c in capabilities)
               else "the rune has no SOUND capability")
        warn(f"--stride-ms {stride_ms} is ignored: it streams a recording, and {why}")
    return sources, notes
