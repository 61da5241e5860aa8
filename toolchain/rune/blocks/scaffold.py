"""`rune proc-block new`: a new block folder with a manifest, C source, numpy reference and test."""

from __future__ import annotations

import re
from pathlib import Path

from rune.blocks.registry import builtin_names
from rune.diagnostics import Diagnostic, RuneError, display_path

TEMPLATES = Path(__file__).with_name("templates")
FILES = {"block.yaml.j2": "block.yaml", "block.c.j2": "{name}.c", "reference.py.j2": "reference.py",
         "test_block.py.j2": "test_{name}.py"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def create_block(name: str, parent: Path) -> Path:
    if not NAME.match(name):
        raise RuneError(Diagnostic(f"'{name}' cannot be a block name",
                                   hint="use lower-case letters, digits and '_', starting with a letter "
                                        "(it prefixes the block's C functions)"))
    if name in builtin_names():
        raise RuneError(Diagnostic(f"a built-in block is called '{name}'",
                                   hint="choose another name: the two would share their C functions' names"))
    folder = parent / name
    if folder.exists():
        raise RuneError(Diagnostic(f"{display_path(folder)} already exists", hint="choose another name or folder"))
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True)
    try:
        folder.mkdir(parents=True)
        for template, target in FILES.items():
            (folder / target.format(name=name)).write_text(environment.get_template(template).render(name=name))
    except OSError as e:
        raise RuneError(Diagnostic(f"cannot create {display_path(folder)}: {e.strerror}")) from None
    return folder
