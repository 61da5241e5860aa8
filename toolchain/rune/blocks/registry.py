"""Finding processing blocks: built-in ones by name, local folders, and the original Rune's paths.

    label                                        a built-in block
    ./my_block                                   a folder next to the Runefile, with block.yaml
    hotg-ai/proc-blocks@v0.11.3#most_confident_indices   the original project's path: the built-in
    hotg-ai/proc-blocks@refs/heads/master#fft             block of the same name, whatever the
    hotg-ai/rune#proc_blocks/fft                          version or git ref after '@'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rune.blocks.manifest import MANIFEST_NAME, BlockManifest, load_manifest
from rune.diagnostics import closest, display_path
from rune.paths import proc_blocks_dir

# owner/repo[@ref]#path, optionally as a URL. The ref is a tag or any git ref (refs/heads/master,
# a commit): the built-in block replaces every version, so it is not interpreted.
_ORIGINAL_PATH = re.compile(r"^(?:https?://github\.com/)?[\w.\-]+/[\w.\-]+(?:@[^#\s]+)?#(?P<path>[\w./\-]+)$")


class BlockNotFound(LookupError):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


@dataclass
class Resolution:
    manifest: BlockManifest
    note: str | None = None  # what the reference was taken to mean, for the build log


def builtin_names() -> list[str]:
    root = proc_blocks_dir()
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST_NAME).is_file())


def canonical_name(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def resolve(reference: str, base_dir: Path) -> Resolution:
    """The block a Runefile's `proc-block:` refers to; raises BlockNotFound or RuneError."""
    reference = reference.strip()
    if reference.startswith((".", "/", "~")):
        folder = (base_dir / Path(reference).expanduser()).resolve()
        if not (folder / MANIFEST_NAME).is_file():
            what = "does not exist" if not folder.exists() else f"has no {MANIFEST_NAME}"
            raise BlockNotFound(f"the block folder {display_path(folder)} {what}",
                                "create one with 'rune proc-block new NAME'")
        return Resolution(load_manifest(folder))

    if m := _ORIGINAL_PATH.match(reference):
        name = canonical_name(m["path"].rstrip("/").rsplit("/", 1)[-1])
        if name in builtin_names():
            return Resolution(load_manifest(proc_blocks_dir() / name, builtin=True),
                              note=f"'{reference}' resolved to the built-in block '{name}'")
        raise _not_found(reference, name)

    name = canonical_name(reference)
    if name in builtin_names():
        return Resolution(load_manifest(proc_blocks_dir() / name, builtin=True))
    raise _not_found(reference, name)


def _not_found(reference: str, name: str) -> BlockNotFound:
    names = builtin_names()
    suggestion = closest(name, names)
    hint = (f"did you mean '{suggestion}'? " if suggestion else "") + \
        f"built-in blocks: {', '.join(names)}; a local block is a folder path such as ./my_block"
    return BlockNotFound(f"unknown processing block '{reference}'", hint)
