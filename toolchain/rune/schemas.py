"""JSON Schema checks, remembered by content: block manifests, rune manifests and boards.

jsonschema takes about 0.1 s to import, more than loading a rune, so a document that conformed
is remembered by the hash of its schema and its text (an empty file in the cache); checking the
same content again does not import jsonschema at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path


def schema_errors(schema: Path, document, text: bytes) -> list:
    """The jsonschema ValidationErrors of `document` (parsed from `text`) against the schema in the
    file `schema`: none if it conforms."""
    marker = _marker(schema, text)
    if marker is not None and marker.exists():
        return []
    errors = list(_validator(schema).iter_errors(document))
    if not errors and marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only cache: the schema is checked every time
    return errors


@functools.lru_cache(maxsize=None)
def _schema_bytes(schema: Path) -> bytes:
    return schema.read_bytes()


@functools.lru_cache(maxsize=None)
def _validator(schema: Path):
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(_schema_bytes(schema)))


def _marker(schema: Path, text: bytes) -> Path | None:
    from rune.paths import cache_dir

    try:
        folder = cache_dir()
    except OSError:
        return None
    return folder / "validated" / hashlib.sha256(_schema_bytes(schema) + b"\0" + text).hexdigest()
