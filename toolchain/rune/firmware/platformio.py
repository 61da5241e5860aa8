"""PlatformIO, offline: its own core directory in the Rune cache, Rune's local dev-platform, and
the packages every build needs (SCons, the Arm toolchain) provided as local folders.

PlatformIO normally downloads its SCons and toolchain packages; here they are folders in the
cache that point at the SCons installed with Rune and at Debian's arm-none-eabi-gcc.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from rune.diagnostics import Diagnostic, RuneError
from rune.paths import cache_dir, firmware_templates_dir

TOOLS = ("gcc", "g++", "as", "ar", "gcc-ar", "gcc-ranlib", "ranlib", "objcopy", "objdump", "size", "nm", "ld")


def platform_dir() -> Path:
    return firmware_templates_dir() / "platformio" / "platform"


def _scons_version() -> str:
    from platformio.dependencies import get_core_dependencies

    return get_core_dependencies()["tool-scons"].lstrip("~^=")


def _write_json(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=2)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def prepare_packages() -> dict[str, Path]:
    """The local package folders (created once per machine in the cache)."""
    root = cache_dir() / "platformio" / "packages"
    scons = root / "tool-scons"
    scons.mkdir(parents=True, exist_ok=True)
    _write_json(scons / "package.json", {"name": "tool-scons", "version": _scons_version(),
                                          "description": "SCons from Rune's Python environment", "system": "*"})
    (scons / "scons.py").write_text("import SCons.Script\n\nSCons.Script.main()\n")

    toolchain = root / "toolchain-gccarmnoneeabi"
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise RuneError(Diagnostic("arm-none-eabi-gcc is not installed",
                                   hint="apt install gcc-arm-none-eabi libnewlib-arm-none-eabi (make setup does it)"))
    (toolchain / "bin").mkdir(parents=True, exist_ok=True)
    _write_json(toolchain / "package.json", {"name": "toolchain-gccarmnoneeabi", "version": "1.0.0",
                                              "description": "the system's arm-none-eabi toolchain", "system": "*"})
    for tool in TOOLS:
        target = Path(gcc).with_name(f"arm-none-eabi-{tool}")
        link = toolchain / "bin" / f"arm-none-eabi-{tool}"
        if target.exists() and not link.is_symlink():
            link.symlink_to(target)
    return {"tool-scons": scons, "toolchain-gccarmnoneeabi": toolchain}


def package_lines() -> list[str]:
    return [f"platformio/{name}@symlink://{path}" for name, path in prepare_packages().items()]


def environment() -> dict[str, str]:
    """Environment variables for every PlatformIO run: an isolated core directory, no network
    checks, no telemetry."""
    env = dict(os.environ)
    env.update(PLATFORMIO_CORE_DIR=str(cache_dir() / "platformio" / "core"),
               PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
               PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="36500",
               PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD="0",
               PLATFORMIO_DISABLE_PROGRESSBAR="true")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_pio(project: Path, targets: list[str], extra_env: dict[str, str] | None = None,
            timeout: float = 1800) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "platformio", "run", "-d", str(project)]
    for target in targets:
        command += ["-t", target]
    env = environment()
    env.update(extra_env or {})
    try:
        with _first_use_alone():
            return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuneError(f"PlatformIO did not finish within {timeout:.0f} s") from None


@contextmanager
def _first_use_alone():
    """While PlatformIO's core folder is new, one run at a time: the first run creates the folder
    and installs the platform and packages into it, and two doing that at once trip over each
    other (FileExistsError). Afterwards runs only read it and go in parallel."""
    core = cache_dir() / "platformio" / "core"
    ready = core / ".rune-ready"
    if ready.exists():
        yield
        return
    core.mkdir(parents=True, exist_ok=True)
    with open(core.parent / "first-use.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield
        ready.touch()
