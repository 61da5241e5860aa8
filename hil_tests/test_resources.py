"""What a firmware reports about its own size and memory adds up: the linker map's components,
the measured stack and heap peaks, the model arena the plan asked for."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES, SHARED, device_lines
from rune.boards import find_board
from rune.compiler.build import build
from rune.container.rune_file import RuneFile
from rune.firmware.device import build_firmware, running_on
from rune.firmware.project import STACK_BYTES
from rune.firmware.sizes import FLASH_SECTIONS, RAM_SECTIONS, component_sizes, section_sizes
from rune.runtime import SoundSource

MODULE_RUNTIME = {"aot": "rune module (aot)", "wasm3": "wasm3"}


@pytest.mark.parametrize("engine", ["aot", "wasm3"])
def test_sizes_and_peaks_add_up(tmp_path, engine, request):
    if request.config.getoption("--board"):
        pytest.skip("measured on the emulated board only")
    rune = RuneFile.load(build(EXAMPLES / "micro_speech", tmp_path / "micro_speech.rune", target="device").path)
    project, size = build_firmware(rune, find_board("netduinoplus2"), tmp_path / "firmware", engine=engine)
    flash, ram = component_sizes(project.map_file)
    sections = section_sizes(project.elf)
    assert abs(sum(flash.values()) - sum(sections.get(s, 0) for s in FLASH_SECTIONS)) < 512  # alignment only
    assert abs(sum(ram.values()) - sum(sections.get(s, 0) for s in RAM_SECTIONS)) < 128
    assert flash[".rune"] == len(rune.data)
    assert flash[MODULE_RUNTIME[engine]] > 1000 and flash["model engine"] > 5000 and flash["device runtime"] > 1000
    assert ram["model arena"] == rune.manifest["models"][0]["plan"]["arena_bytes"]

    clip = SHARED / "audio" / "yes_1000ms.wav"
    with running_on(project, {0: SoundSource(clip)}, timeout=120) as session:
        events = device_lines(session, 2, keep=("event",))
    inference = [e.data for e in events if e.data["event"] == "inference"][-1]
    assert 256 < inference["stack_bytes"] < STACK_BYTES
    if engine == "wasm3":  # the rune's memory and wasm3's own state are on the heap
        assert inference["heap_bytes"] > rune.manifest["memory"]["used_bytes"]
    else:  # the aot module's memory is static; only the C library takes a little heap
        assert inference["heap_bytes"] < 4096 and ram["rune memory (aot)"] >= rune.manifest["memory"]["used_bytes"]
    assert inference["model_cycles"] > 0 and inference["cycles"] > inference["model_cycles"]


def test_a_changed_rune_is_rebuilt_into_the_same_project(tmp_path, request):
    """The .rune is .incbin'ed: the build must notice when its bytes change under the same name."""
    import shutil
    import subprocess

    if request.config.getoption("--board"):
        pytest.skip("built for the emulated board only")
    shutil.copytree(EXAMPLES / "sine", tmp_path / "sine")
    board, folder = find_board("netduinoplus2"), tmp_path / "firmware"
    for maximum in ("1.0", "2.0"):
        original = (EXAMPLES / "sine" / "Runefile.yml").read_text()
        (tmp_path / "sine" / "Runefile.yml").write_text(original.replace("max: 100.0", f"max: {maximum}"))
        rune = RuneFile.load(build(tmp_path / "sine", tmp_path / f"sine-{maximum}.rune", name="sine",
                                   target="device").path)
        project, _ = build_firmware(rune, board, folder, engine="aot")
        embedded = tmp_path / "embedded.bin"
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "--only-section=.rune", str(project.elf),
                        str(embedded)], check=True)
        assert embedded.read_bytes() == rune.data


def test_the_native_reference_says_what_the_desktop_says(tmp_path, request):
    """bench/device.py's reference firmware (the rune's C compiled for the board, no sandbox)."""
    if request.config.getoption("--board"):
        pytest.skip("measured on the emulated board only")
    from rune.firmware.project import NativeSources
    from rune.runtime import RandomSource, Runtime

    built = build(EXAMPLES / "sine", tmp_path / "sine.rune", target="device")
    native = NativeSources(built.generated.render(),
                           list(dict.fromkeys(d for b in built.generated.blocks for d in b.source_dirs)))
    rune = RuneFile.load(built.path)
    project, _ = build_firmware(rune, find_board("netduinoplus2"), tmp_path / "firmware", engine="native",
                                native=native, random_seed=5)
    with running_on(project, {}, timeout=120) as session:
        on_board = [line.text for line in device_lines(session, 5)]
    with Runtime.load(built.path) as runtime:
        runtime.set_source(0, RandomSource(5))
        assert on_board == [o.json_line() for _ in range(5) for o in runtime.run()]
