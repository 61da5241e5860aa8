"""Generate the PlatformIO project that runs one .rune on one board.

    <project>/platformio.ini, boards/<board>.json, link.ld
    <project>/src/        the device runtime (firmware_templates/runtime) and the generated
                          rune_config.c (what the rune needs, from its manifest), rune_blob.S
    <project>/src/sensors/  the drivers of the board's sensors that feed capabilities, if any
    <project>/lib/wasm3/  the interpreter, from the Rune cache (engine wasm3), or
    <project>/lib/rune_aot/  the rune's module translated to C (engine aot)
    <project>/lib/rune_engine/  Rune's model engine (firmware_templates/engine), if the rune has models
    <project>/rune/       the .rune itself, embedded in flash as it is
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from rune import __version__
from rune.boards import Board, Sensor
from rune.container.rune_file import RuneFile
from rune.diagnostics import Diagnostic, RuneError
from rune.firmware.platformio import package_lines, platform_dir
from rune.engine.plan import plan_kernels
from rune.engine.sources import DEVICE_FLAGS, export_sources
from rune.firmware.aot import WASM2C_VERSION, translate
from rune.firmware.sensors import driver_sources
from rune.firmware.wasm3_source import PYWASM3_VERSION, wasm3_sources
from rune.paths import firmware_templates_dir, proc_blocks_dir
from rune.tensors import ElementType, TensorType
from rune.tflite.model import read_model

STACK_BYTES = 16 * 1024
# wasm3's configuration. Global build flags, not the library's own: the device runtime reads
# wasm3's structures (m3_env.h), whose layout depends on these.
WASM3_DEFINES = ("d_m3MaxFunctionStackHeight=256", "d_m3MaxConstantTableSize=64", "d_m3CodePageAlignSize=1024",
                 "d_m3VerboseErrorMessages=0", "d_m3LogOutput=0", "d_m3HasWASI=0", "d_m3HasMetaWASI=0",
                 "d_m3HasUVWASI=0", "d_m3HasTracer=0", "d_m3EnableStrace=0")
DEFAULT_WATCHDOG_MS = 60_000
ENGINES = ("aot", "wasm3")  # what users flash; "native" is the benchmarks' unsandboxed reference
ENGINE_SOURCES = {"aot": ("engine_aot.c", "aot_runtime.c"), "wasm3": ("engine_wasm3.c",),
                  "native": ("engine_native.c",)}
ENGINE_LIBRARY = {"aot": "rune_aot", "wasm3": "wasm3", "native": "rune_native"}  # lib/<name> in the project


@dataclass
class NativeSources:
    """The rune's C as the compiler generated it: glue and headers, and the blocks' folders."""

    files: dict[str, str]
    folders: list[Path]


@dataclass
class FirmwareProject:
    folder: Path
    board: Board
    rune: RuneFile
    engine: str

    @property
    def elf(self) -> Path:
        return self.folder / ".pio" / "build" / self.board.id / "firmware.elf"

    @property
    def map_file(self) -> Path:
        """The linker's map: where every byte of the firmware comes from (sizes.component_sizes)."""
        return self.elf.with_suffix(".map")


def _templates():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(firmware_templates_dir() / "project"),
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined)


# rune_config.h: where a capability's data comes from
FROM_HOST, RANDOM, SENSOR = 0, 1, 2


def _capabilities(manifest: dict, sensors: dict[int, Sensor]) -> list[dict]:
    entries = []
    for c in manifest["capabilities"]:
        tensor = TensorType.from_json(c)
        args = c["args"]
        sensor = sensors.get(c["index"])
        entries.append({
            "stage": c["stage"], "kind": c["kind"],
            "source": RANDOM if c["kind"] == "RAND" else SENSOR if sensor else FROM_HOST,
            "type": tensor.dtype.code, "bytes": tensor.bytes, "count": tensor.count,
            "has_min": int(args.get("min") is not None), "has_max": int(args.get("max") is not None),
            "min": repr(float(args.get("min") or 0.0)), "max": repr(float(args.get("max") or 0.0)),
            "hz": int(args.get("hz") or 0) if c["kind"] == "SOUND" else 0,
            "sensor": f"sensor_{sensor.driver}_read" if sensor else "0",
            "sensor_part": sensor.part if sensor else None,
        })
    return entries


def _models(rune: RuneFile) -> list[dict]:
    entries = []
    for model in rune.manifest["models"]:
        plan = model.get("plan")
        if plan is None:
            raise RuneError(Diagnostic(f"the model of stage '{model['stage']}' has no plan for the device engine",
                                       hint="rebuild the rune with 'rune build --target device'; the build says "
                                            "which operator the device engine does not support"))
        tensors = [TensorType.from_json(t).bytes for t in model["inputs"] + model["outputs"]]
        entries.append({"stage": model["stage"], "model_offset": rune.model_offset(model["index"]),
                        "model_bytes": model["bytes"], "plan_offset": rune.sections[plan["section"]].content_start,
                        "plan_bytes": plan["bytes"], "arena_bytes": plan["arena_bytes"],
                        "inputs": len(model["inputs"]), "outputs": len(model["outputs"]), "tensor_bytes": tensors})
    return entries


def _outputs(manifest: dict) -> list[dict]:
    entries = []
    for o in manifest["outputs"]:
        tensor = TensorType.from_json(o)
        dims = list(tensor.shape) + [0] * (8 - len(tensor.shape))
        entries.append({"type": tensor.dtype.code, "rank": len(tensor.shape), "count": tensor.count,
                        "bytes": tensor.count * (4 if tensor.dtype is ElementType.UTF8 else tensor.dtype.size),
                        "dims": dims})
    return entries


def generate_project(rune: RuneFile, board: Board, folder: Path, *, engine: str | None = None, random_seed: int = 0,
                     watchdog_ms: int = DEFAULT_WATCHDOG_MS, native: NativeSources | None = None,
                     profile: bool = False, sensors: dict[int, Sensor] | None = None, log=None) -> FirmwareProject:
    """`profile`: the model engine reports the cycles of every operator after each inference
    ({"event":"profile",...} lines), at a small cost in time. `sensors`: the capabilities (by
    index) that the board's sensors feed (rune.firmware.sensors.choose_sensors); the host feeds
    the others."""
    engine = engine or board.default_engine
    sensors = sensors or {}
    manifest = rune.manifest
    models = _models(rune)
    templates = _templates()
    runtime = firmware_templates_dir() / "runtime"
    folder = folder.resolve()
    if folder.exists():  # a project from an earlier flash: its sources are replaced
        shutil.rmtree(folder / "src", ignore_errors=True)
        shutil.rmtree(folder / "lib", ignore_errors=True)
    for sub in ("src", "boards", "rune"):
        (folder / sub).mkdir(parents=True, exist_ok=True)

    rune_path = folder / "rune" / f"{rune.name}.rune"
    rune_path.write_bytes(rune.data)
    every_engine = {name for sources in ENGINE_SOURCES.values() for name in sources}
    shared = [p for p in [*runtime.glob("*.c"), *runtime.glob("*.h")] if p.name not in every_engine]
    for source in [*shared, *(runtime / name for name in ENGINE_SOURCES[engine]), runtime / "boards" / "cortex_m.c",
                   runtime / "boards" / "cortex_m.h", runtime / "boards" / f"{board.console['driver']}.c"]:
        shutil.copy2(source, folder / "src" / source.name)
    drivers = sorted({sensor.driver for sensor in sensors.values()})
    if drivers:
        (folder / "src" / "sensors").mkdir()
        for source in driver_sources(set(drivers)):
            shutil.copy2(source, folder / "src" / "sensors" / source.name)
    libraries = []
    if engine == "wasm3":
        (folder / "lib" / "wasm3" / "src").mkdir(parents=True)
        for source in wasm3_sources(log).iterdir():
            shutil.copy2(source, folder / "lib" / "wasm3" / "src" / source.name)
        libraries.append("wasm3")
    elif engine == "aot":
        (folder / "lib" / "rune_aot" / "src").mkdir(parents=True)
        translate(rune, folder / "lib" / "rune_aot" / "src")
        libraries.append("rune_aot")
    else:
        _write_native(native, folder / "lib" / "rune_native" / "src")
        libraries.append("rune_native")
    if models:
        kernels = set().union(*(plan_kernels(rune.section_bytes(m["plan"]["section"])) for m in manifest["models"]))
        export_sources(folder / "lib" / "rune_engine" / "src", kernels)
        libraries.append("rune_engine")

    context = dict(
        version=__version__, name=rune.name, board=board, platform=f"symlink://{platform_dir()}",
        packages=package_lines(), libraries=libraries, stack_bytes=STACK_BYTES, rune_path=str(rune_path),
        rune_sha256=hashlib.sha256(rune.data).hexdigest(),
        capabilities=_capabilities(manifest, sensors), sensor_drivers=drivers, models=models,
        outputs=_outputs(manifest),
        stages=[s["name"] for s in manifest["stages"]], rune_bytes=len(rune.data),
        memory_bytes=manifest["memory"]["used_bytes"], random_seed=random_seed & (2**64 - 1),
        watchdog_ms=watchdog_ms, arena_bytes=max((m["arena_bytes"] for m in models), default=0),
        defines=(WASM3_DEFINES if engine == "wasm3" else ()) + (_profile_defines(rune) if profile else ()), wasm3_version=PYWASM3_VERSION, wasm2c_version=WASM2C_VERSION,
        engine_flags=DEVICE_FLAGS,
    )
    files = {
        "platformio.ini": "platformio.ini.j2", f"boards/{board.id}.json": "board.json.j2", "link.ld": "link.ld.j2",
        "src/rune_blob.S": "rune_blob.S.j2", "src/rune_generated.h": "rune_generated.h.j2",
        "src/rune_config.c": "rune_config.c.j2",
    }
    files[f"lib/{ENGINE_LIBRARY[engine]}/library.json"] = f"{engine}_library.json.j2"
    if models:
        files["lib/rune_engine/library.json"] = "engine_library.json.j2"
    for target, template in files.items():
        (folder / target).write_text(templates.get_template(template).render(**context))
    return FirmwareProject(folder, board, rune, engine)


def _write_native(native: NativeSources | None, folder: Path) -> None:
    if native is None:
        raise ValueError("the native engine needs the rune's generated C (a benchmark reference)")
    folder.mkdir(parents=True)
    for name, text in native.files.items():
        (folder / name).write_text(text)
    for source in [*(proc_blocks_dir() / "include").glob("*.h"),
                   *(p for d in native.folders for p in [*d.glob("*.c"), *d.glob("*.h")])]:
        shutil.copy2(source, folder / source.name)


def _profile_defines(rune: RuneFile) -> tuple[str, ...]:
    """Build flags for per-operator profiles: room for the largest model's operators."""
    ops = max((len(read_model(rune.section_bytes(m["section"])).operators) for m in rune.manifest["models"]),
              default=0)
    return ("RUNE_ENGINE_PROFILE", f"RUNE_PROFILE_OPS={max(ops, 1)}")
