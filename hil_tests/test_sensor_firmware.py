"""Firmware that reads the board's own sensors (firmware_templates/runtime/sensors/).

No STM32F4-Discovery is attached here, so its firmware is built and checked, not run: it
builds with PlatformIO, fits, and holds the drivers its configuration names and no others. On
the emulated STM32F405, the drivers' first steps meet no sensor (the LIS3DSH's WHO_AM_I reads
0, PLLI2S never locks), which shows that a sensor that does not answer is an error line, asked
again a second later, and never a hang; and the PDM decimation is timed there, in instructions,
against the Discovery's 16 MHz. With a Discovery attached,

    pytest hil_tests/test_sensor_firmware.py --board disco_f407vg --port /dev/ttyUSB0

also reads its accelerometer and microphone (test_on_a_discovery_*)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT
from rune.boards import Sensor, find_board
from rune.compiler.build import build
from rune.container.rune_file import RuneFile
from rune.firmware.device import build_firmware, running_on
from rune.firmware.sensors import SOUND_RATES, choose_sensors
from rune.runtime.sources import CapabilitySpec

SENSORS = ROOT / "firmware_templates" / "runtime" / "sensors"
ACCEL_RUNE = """version: 1
pipeline:
  motion:
    capability: ACCEL
    outputs: [{type: f32, dimensions: [64, 3]}]
    args: {samples: 64}
  scaled: {proc-block: normalize, inputs: [motion]}
  serial: {out: SERIAL, inputs: [motion, scaled]}
"""
SOUND_CLIP_RUNE = """version: 1
pipeline:
  audio:
    capability: SOUND
    outputs: [{type: i16, dimensions: [1600]}]
    args: {hz: 16000, sample_duration_ms: 100}
  serial: {out: SERIAL, inputs: [audio]}
"""
SOUND_RUNE = """version: 1
pipeline:
  audio:
    capability: SOUND
    outputs: [{type: i16, dimensions: [800]}]
    args: {hz: 8000, sample_duration_ms: 100}
  loudest: {proc-block: argmax, inputs: [audio]}
  serial: {out: SERIAL, inputs: [loudest]}
"""


def rune_from(text: str, folder) -> RuneFile:
    folder.mkdir()
    (folder / "Runefile.yml").write_text(text)
    return RuneFile.load(build(folder, folder / "sensors.rune", target="device").path)


def symbols(elf) -> set[str]:
    result = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True)
    return {line.split()[-1] for line in result.stdout.splitlines()}


def discovery_firmware(rune: RuneFile, folder):
    board = find_board("disco_f407vg")
    sensors = choose_sensors(board, [CapabilitySpec.from_manifest(c) for c in rune.manifest["capabilities"]], set())
    project, size = build_firmware(rune, board, folder, sensors=sensors)  # raises if it does not fit
    return project, size, sensors


def test_the_discovery_firmware_reads_its_microphone_builds_and_fits(tmp_path):
    rune = RuneFile.load(build(EXAMPLES / "micro_speech", tmp_path / "micro_speech.rune", target="device").path)
    project, size, sensors = discovery_firmware(rune, tmp_path / "firmware")
    assert {i: s.driver for i, s in sensors.items()} == {0: "mp45dt02"}
    assert "{2, 4, 0, 0, 32000u, 16000u, 0.0, 0.0, 16000u, sensor_mp45dt02_read}" in \
        (project.folder / "src" / "rune_config.c").read_text()
    found = symbols(project.elf)
    assert {"sensor_mp45dt02_read", "pdm_decimate", "i2s_clock_plan"} <= found
    assert "sensor_lis3dsh_read" not in found
    board = find_board("disco_f407vg")
    assert size.flash <= board.flash.bytes and size.ram <= board.ram.bytes


def test_the_discovery_firmware_reads_its_accelerometer_builds_and_fits(tmp_path):
    project, size, sensors = discovery_firmware(rune_from(ACCEL_RUNE, tmp_path / "accel"), tmp_path / "firmware")
    assert {i: s.driver for i, s in sensors.items()} == {0: "lis3dsh"}
    assert "{2, 9, 0, 0, 768u, 192u, 0.0, 0.0, 0u, sensor_lis3dsh_read}" in \
        (project.folder / "src" / "rune_config.c").read_text()
    found = symbols(project.elf)
    assert "sensor_lis3dsh_read" in found and not {"sensor_mp45dt02_read", "pdm_decimate"} & found
    board = find_board("disco_f407vg")
    assert size.flash <= board.flash.bytes and size.ram <= board.ram.bytes


@pytest.mark.parametrize("driver, text, message", [
    ("lis3dsh", ACCEL_RUNE, "LIS3DSH: WHO_AM_I reads 0x00, expected 0x3f (no answer on SPI1 / PE3?)"),
    ("mp45dt02", SOUND_RUNE, "MP45DT02: PLLI2S did not lock within 2 ms"),
])
def test_a_sensor_that_does_not_answer_is_an_error_line_not_a_hang(tmp_path, request, driver, text, message):
    """The emulated STM32F405 has SPI1 but nothing on it, and no clock controller to lock a PLL:
    the driver says so through the capability error path, and the firmware keeps serving (it
    asks the sensor again a second later, or after half the watchdog's time). Only these first
    steps of the drivers run here: the microphone's capture runs natively (tests/test_sensors.py)."""
    if request.config.getoption("--board"):
        pytest.skip("the drivers meet no sensor on the emulated board only")
    if not shutil.which("qemu-system-arm"):
        pytest.skip("needs qemu-system-arm")
    rune = rune_from(text, tmp_path / "rune")
    board = find_board("netduinoplus2")
    sensor = next(s for s in find_board("disco_f407vg").sensors if s.driver == driver)
    # a watchdog of 400 ms: the sensor is asked again after half of it, 200 ms rather than a second
    project, _ = build_firmware(rune, board, tmp_path / "firmware", sensors={0: sensor}, watchdog_ms=400)
    errors, seen_at = [], []
    with running_on(project, {}, timeout=60) as session:
        for event in session.events():
            line = event.line
            assert line.kind != "request", "a sensor-fed capability must not be asked of the host"
            if line.kind == "error":
                errors.append(line.data)
                seen_at.append(time.monotonic())
                if len(errors) == 2:
                    break
    stage = rune.manifest["capabilities"][0]["stage"]
    assert errors == [{"error": "capability", "stage": stage, "message": message}] * 2
    # Without the back-off the two lines would be microseconds of emulated time apart, here
    # milliseconds; with it, 200 ms of emulated time are 2 * 10^8 instructions (-icount
    # shift=0), which QEMU takes seconds to run (the wait reads SysTick, a device, each turn).
    # tests/test_sensors.py checks the back-off exactly, natively.
    assert seen_at[1] - seen_at[0] > 0.25


def test_the_pdm_decimation_keeps_up_at_16_mhz(tmp_path, request):
    """Instructions per PCM sample on a Cortex-M4 (QEMU counts them exactly), times the highest
    rate each decimation ratio is used for, against the Discovery's 16 MHz: at most 60%, to
    leave room for the cycles that instructions take beyond one (loads, branches) and the rest of
    the driver. The real board's cycles have not been measured."""
    if request.config.getoption("--board"):
        pytest.skip("measured on the emulated board only")
    if not shutil.which("qemu-system-arm"):
        pytest.skip("needs qemu-system-arm")
    (tmp_path / "link.ld").write_text("""
MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 1024K  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 128K }
ENTRY(Reset_Handler)
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .data : { _data = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  _data_load = LOADADDR(.data);
  .bss (NOLOAD) : { _bss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
  _stack_top = ORIGIN(RAM) + LENGTH(RAM);
}
""")
    elf = tmp_path / "pdm_speed.elf"
    flags = [*find_board("disco_f407vg").cpu_flags, "-Os", "-ffunction-sections", "-fdata-sections"]  # as firmware
    subprocess.run(["arm-none-eabi-gcc", *flags, "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
                    "-Wl,--gc-sections", "-T", str(tmp_path / "link.ld"), f"-I{SENSORS}",
                    f"-I{SENSORS.parent / 'boards'}", str(ROOT / "hil_tests" / "pdm_speed.c"),
                    str(SENSORS / "pdm_decimator.c"), "-o", str(elf)],
                   check=True, capture_output=True, text=True)
    result = subprocess.run(["qemu-system-arm", "-M", "netduinoplus2", "-display", "none", "-monitor", "none",
                             "-nodefaults", "-serial", "none", "-kernel", str(elf),
                             "-semihosting-config", "enable=on,target=native",
                             "-icount", "shift=0,align=off,sleep=off"], capture_output=True, text=True, timeout=120)
    said = result.stdout + result.stderr  # semihosting writes to QEMU's standard error
    figures = {int(r): int(t) / 0.168 / int(s)  # instructions a sample
               for r, t, s in re.findall(r"ratio (\d+) ticks (\d+) samples (\d+)", said)}
    assert sorted(figures) == [64, 96, 128], said
    lowest, highest = SOUND_RATES["mp45dt02"]
    top_rate = {64: highest, 96: 999_999 // 64, 128: 999_999 // 96}  # above these, the next smaller ratio
    report = []  # docs/firmware.md quotes these: pytest hil_tests/test_sensor_firmware.py -k keeps_up -s
    for ratio, per_sample in figures.items():
        share = per_sample * top_rate[ratio] / 16e6
        report.append(f"ratio {ratio}: {per_sample:.0f} instructions a sample, {share:.0%} of 16 MHz at "
                      f"{top_rate[ratio]} Hz")
        assert share <= 0.6, report[-1]
    print("\n".join(report))


@pytest.fixture
def discovery(board_port):
    """The serial port of an STM32F4-Discovery (MB997C or later: its LIS3DSH) lying flat,
    component side up, in a room with some sound; skips, saying why, without one."""
    chosen, port = board_port
    if chosen != "disco_f407vg":
        pytest.skip("reads a real STM32F4-Discovery's sensors: pytest hil_tests/test_sensor_firmware.py --board "
                    "disco_f407vg --port /dev/ttyUSB0 (a USB-serial adapter on PA2/PA3)")
    return port


def sensor_outputs(rune: RuneFile, folder, port: str, inferences: int) -> list[np.ndarray]:
    """Channel 0 of each inference, read from the board's sensors; fails on any error line."""
    project, _, _ = discovery_firmware(rune, folder)
    outputs, done = [], 0
    with running_on(project, {}, port=port, timeout=60) as session:
        for event in session.events():
            line = event.line
            assert line.kind != "error", line.data
            if line.kind == "output" and line.data["channel"] == 0:
                outputs.append(np.array(line.data["elements"], dtype=np.float64).reshape(line.data["dimensions"]))
            if line.kind == "event" and line.data["event"] == "inference":
                done += 1
                if done == inferences:
                    return outputs
    return outputs


def test_on_a_discovery_the_accelerometer_lying_flat_reads_1_g_down(tmp_path, discovery):
    rows = np.concatenate(sensor_outputs(rune_from(ACCEL_RUNE, tmp_path / "accel"), tmp_path / "firmware",
                                         discovery, 3))
    x, y, z = rows.mean(axis=0)
    assert abs(z - 1) <= 0.1 and abs(x) <= 0.1 and abs(y) <= 0.1, (x, y, z)
    assert np.all(rows.std(axis=0) < 0.05)  # lying still


def test_on_a_discovery_the_microphone_hears_something(tmp_path, discovery):
    """Non-constant, and louder than 5 steps RMS: the MP45DT02's own noise (61 dB SNR, so
    33 dB SPL) with the driver's 24 dB of gain is about 23 steps. Five reads in a row: a rune
    this small keeps up, so no sound is lost between them."""
    clips = sensor_outputs(rune_from(SOUND_CLIP_RUNE, tmp_path / "sound"), tmp_path / "firmware", discovery, 5)
    assert len(clips) == 5
    for clip in clips:
        assert len(np.unique(clip)) > 1
        assert np.sqrt(np.mean((clip - clip.mean()) ** 2)) > 5
