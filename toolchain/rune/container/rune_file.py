"""The .rune file: one WebAssembly module with the rune's manifest, models and resources in
named custom sections (docs/abi.md, "The .rune container").

    rune.manifest          JSON: the pipeline, capabilities, models, outputs, memory, versions
    rune.model.<stage>     a model's .tflite bytes, 16-byte aligned in the file
    rune.plan.<stage>      the model's plan for Rune's engine (docs/engine.md), 16-byte aligned
    rune.resource.<name>   a resource's bytes

Readers skip sections they do not know, so later versions can add sections (signatures, say)
without breaking older hosts; the manifest's "format" changes only when an older reader could
misread a rune.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from rune.container import wasm
from rune.container.manifest_check import ManifestError, check_manifest
from rune.files import read_file

FORMAT_VERSION = 1
MANIFEST_SECTION = "rune.manifest"
MODEL_PREFIX = "rune.model."
PLAN_PREFIX = "rune.plan."
RESOURCE_PREFIX = "rune.resource."
MODEL_ALIGNMENT = 16


class RuneFileError(ValueError):
    """The file is not a usable .rune."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


REBUILD = "the file was altered or damaged: build it again from its Runefile with 'rune build'"


@dataclass
class RuneFile:
    data: bytes  # the whole file: a valid wasm module
    manifest: dict
    sections: dict[str, wasm.Section]

    @classmethod
    def load(cls, path: Path | str) -> "RuneFile":
        path = Path(path)
        try:
            data = read_file(path)
        except OSError as e:
            raise RuneFileError(f"cannot read {path}: {e.strerror}") from None
        return cls.from_bytes(data, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "the rune") -> "RuneFile":
        try:
            sections = wasm.custom_sections(data)
        except wasm.WasmError as e:
            raise RuneFileError(f"{name} is not a valid .rune: {e}") from None
        if MANIFEST_SECTION not in sections:
            raise RuneFileError(f"{name} is a WebAssembly module but not a rune (it has no {MANIFEST_SECTION})")
        def content(section: wasm.Section) -> bytes:
            return data[section.content_start:section.payload_end]

        text = content(sections[MANIFEST_SECTION])
        try:
            manifest = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RuneFileError(f"{name} has a corrupted manifest: {e}", REBUILD) from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
            raise RuneFileError(f"{name} has a manifest without a format version", REBUILD)
        if manifest["format"] > FORMAT_VERSION:
            raise RuneFileError(f"{name} uses .rune format {manifest['format']}; this Rune reads format "
                                f"{FORMAT_VERSION} and older (upgrade Rune)")
        try:
            check_manifest(manifest, text)
        except ManifestError as e:
            raise RuneFileError(f"{name} has a corrupted manifest: {e}", REBUILD) from None
        rune = cls(data, manifest, sections)
        rune.verify(name)
        return rune

    def verify(self, name: str) -> None:
        """The module and every model and plan section are there, with the checksums the manifest
        gives (a rune built before the module had one has no "module" entry)."""
        module = self.manifest.get("module")
        if module and hashlib.sha256(self.data[:module["bytes"]]).hexdigest() != module["sha256"]:
            raise RuneFileError(f"{name}: its code is corrupted (its checksum does not match)", REBUILD)
        for model in self.manifest["models"]:
            self._verify_section(name, model, f"the model of stage '{model.get('stage')}'")
            if "plan" in model:
                self._verify_section(name, model["plan"], f"the plan of stage '{model.get('stage')}'")

    def _verify_section(self, name: str, entry: dict, what: str) -> None:
        if entry["section"] not in self.sections:
            raise RuneFileError(f"{name}: {what} is missing", REBUILD)
        if hashlib.sha256(self.section_bytes(entry["section"])).hexdigest() != entry["sha256"]:
            raise RuneFileError(f"{name}: {what} is corrupted (its checksum does not match)", REBUILD)

    @property
    def name(self) -> str:
        return self.manifest["name"]

    def section_bytes(self, name: str) -> bytes:
        section = self.sections[name]
        return self.data[section.content_start:section.payload_end]

    def model_bytes(self, index: int) -> bytes:
        return self.section_bytes(self.manifest["models"][index]["section"])

    def plan_bytes(self, index: int) -> bytes | None:
        """The model's plan for Rune's engine; None if the engine cannot run it."""
        plan = self.manifest["models"][index].get("plan")
        return self.section_bytes(plan["section"]) if plan else None

    def resource_bytes(self, name: str) -> bytes:
        return self.section_bytes(RESOURCE_PREFIX + name)

    def model_offset(self, index: int) -> int:
        """Where a model's bytes start in the file (aligned, so a device can use them in place)."""
        return self.sections[self.manifest["models"][index]["section"]].content_start


def write_rune(module: bytes, manifest: dict, models: list[tuple[str, bytes, bytes | None]],
               resources: list[tuple[str, bytes]]) -> bytes:
    """Assemble the .rune from (stage, model, plan or None) and (name, content) pairs; the manifest's
    model entries (and their "plan" entries) get their section names, sizes and checksums, and the
    module its size and checksum."""
    manifest["module"] = {"bytes": len(module), "sha256": hashlib.sha256(module).hexdigest()}
    data = module
    for (stage, model, plan), entry in zip(models, manifest["models"]):
        data, _ = wasm.append_custom_section(data, MODEL_PREFIX + stage, model, align=MODEL_ALIGNMENT)
        entry.update(_section_entry(MODEL_PREFIX + stage, model))
        if plan is not None:
            data, _ = wasm.append_custom_section(data, PLAN_PREFIX + stage, plan, align=MODEL_ALIGNMENT)
            entry["plan"] = {**_section_entry(PLAN_PREFIX + stage, plan), **entry.get("plan", {})}
    for name, content in resources:
        data, _ = wasm.append_custom_section(data, RESOURCE_PREFIX + name, content)
    text = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    data, _ = wasm.append_custom_section(data, MANIFEST_SECTION, text)
    return data


def _section_entry(section: str, content: bytes) -> dict:
    return {"section": section, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
