"""Boards' sensors as data: which capabilities a firmware reads from the board's own sensors and
which the host feeds, how `rune flash` chooses, and what the generated project holds (only the
drivers it uses). The drivers' arithmetic is in test_pdm_decimator.py; the firmware builds in
hil_tests/test_sensor_firmware.py. The microphone driver's capture and the runtime's retry
back-off run natively here, against simulated hardware (mp45dt02_harness.c,
capabilities_harness.c)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import EXAMPLES, ROOT, rune_cli
from rune.boards import find_board, load_board
from rune.diagnostics import RuneError
from rune.firmware.project import generate_project
from rune.firmware.sensors import choose_sensors, describe, driver_sources, unfed
from rune.runtime.sources import CapabilitySpec

TWO_SENSORS = """version: 1
pipeline:
  audio:
    capability: SOUND
    outputs: [{type: i16, dimensions: [1600]}]
    args: {hz: HZ, sample_duration_ms: 100}
  motion:
    capability: ACCEL
    outputs: [{type: f32, dimensions: [32, 3]}]
    args: {samples: 32}
  rand: {capability: RAND, outputs: [{type: f32, dimensions: [2]}]}
  scaled: {proc-block: normalize, inputs: [motion]}
  loudest: {proc-block: argmax, inputs: [audio]}
  serial: {out: SERIAL, inputs: [scaled, loudest, rand]}
"""



@pytest.fixture(scope="module")
def two_sensors(tmp_path_factory):
    """A .rune with a SOUND, an ACCEL and a RAND capability (indices 0, 1, 2)."""
    from rune.compiler.build import build
    from rune.container.rune_file import RuneFile

    folder = tmp_path_factory.mktemp("two_sensors")
    (folder / "Runefile.yml").write_text(TWO_SENSORS.replace("HZ", "16000"))
    return RuneFile.load(build(folder, folder / "two_sensors.rune").path)


def specs(rune_file) -> list[CapabilitySpec]:
    return [CapabilitySpec.from_manifest(c) for c in rune_file.manifest["capabilities"]]


def test_the_discovery_declares_its_sensors_with_their_drivers():
    disco = find_board("disco_f407vg")
    assert (disco.sensor_for("ACCEL").part, disco.sensor_for("ACCEL").driver) == ("LIS3DSH", "lis3dsh")
    assert (disco.sensor_for("SOUND").part, disco.sensor_for("SOUND").driver) == ("MP45DT02", "mp45dt02")
    assert disco.sensor_for("SOUND", 1) is None and disco.sensor_for("IMAGE") is None
    nano = find_board("nano33ble")  # sensors, no drivers yet
    assert {s.kind for s in nano.sensors} == {"SOUND", "ACCEL"} and nano.sensor_for("SOUND") is None
    assert find_board("netduinoplus2").sensors == ()


def test_a_board_with_a_driver_that_does_not_exist_is_refused(tmp_path):
    text = (ROOT / "boards" / "disco_f407vg.yaml").read_text()
    (tmp_path / "disco_f407vg.yaml").write_text(text.replace("driver: lis3dsh", "driver: lis3dsh_v2"))
    with pytest.raises(RuneError, match=r"no driver 'lis3dsh_v2' \(firmware_templates/runtime/sensors/"):
        load_board(tmp_path / "disco_f407vg.yaml")
    (tmp_path / "disco_f407vg.yaml").write_text(text.replace("kind: ACCEL", "kind: RAND"))
    with pytest.raises(RuneError, match="sensors.0.kind"):
        load_board(tmp_path / "disco_f407vg.yaml")


def test_rune_boards_says_which_capabilities_sensors_feed():
    result = rune_cli("boards")
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "ACCEL, SOUND" in rows["disco_f407vg"] and "no drivers" in rows["nano33ble"]
    assert " - " in rows["netduinoplus2"]


def test_sensors_feed_what_no_file_feeds(two_sensors):
    disco, capabilities = find_board("disco_f407vg"), specs(two_sensors)
    assert {i: s.driver for i, s in choose_sensors(disco, capabilities, set()).items()} == {0: "mp45dt02",
                                                                                            1: "lis3dsh"}
    assert {i: s.driver for i, s in choose_sensors(disco, capabilities, {0}).items()} == {1: "lis3dsh"}
    assert choose_sensors(disco, capabilities, set(), use=False) == {}
    assert choose_sensors(find_board("netduinoplus2"), capabilities, set()) == {}
    assert choose_sensors(find_board("nano33ble"), capabilities, set()) == {}  # no drivers
    lines = describe(disco, capabilities, choose_sensors(disco, capabilities, {0}), {0})
    assert lines == ["capability 'audio' (SOUND): from the host, over the serial link",
                     "capability 'motion' (ACCEL): from the board's LIS3DSH (driver lis3dsh)"]
    assert describe(find_board("netduinoplus2"), capabilities, {}, set()) == []


def test_a_capability_with_neither_a_sensor_nor_a_file_is_an_error_before_anything_is_built(two_sensors):
    disco, capabilities = find_board("disco_f407vg"), specs(two_sensors)
    assert describe(disco, capabilities, {}, {1}) == [
        "capability 'audio' (SOUND): from the host, over the serial link, once a file is given (--sound FILE.wav)",
        "capability 'motion' (ACCEL): from the host, over the serial link"]
    unfed(capabilities, choose_sensors(disco, capabilities, set()), set())  # the sensors feed both
    with pytest.raises(RuneError, match=r"capability 'audio' \(SOUND\) has no data: no sensor of the board feeds it "
                                        "and no file was given for it") as error:
        unfed(capabilities, {}, {1})
    assert "give it one: --sound FILE.wav" in str(error.value) and "motion" not in str(error.value)


def test_rune_flash_without_data_for_a_capability_fails_at_once(built_examples):
    result = rune_cli("flash", built_examples["micro_speech"], "--board", "stm32f4", "--count", "1")
    assert result.returncode == 2, result.stderr
    assert "capability 'audio' (SOUND) has no data" in result.stderr and "--sound FILE.wav" in result.stderr
    assert "generating the firmware project" not in result.stderr


def test_asking_for_sensors_that_cannot_be_had_is_an_error(two_sensors):
    capabilities = specs(two_sensors)
    with pytest.raises(RuneError, match="capability 'audio' is fed from a file, and --sensors gives it to the "
                                        "MP45DT02"):
        choose_sensors(find_board("disco_f407vg"), capabilities, {0}, use=True)
    with pytest.raises(RuneError, match="the board 'netduinoplus2' has no sensor driver for this rune's capabilities "
                                        r"\(ACCEL, SOUND\)"):
        choose_sensors(find_board("netduinoplus2"), capabilities, set(), use=True)


def test_a_source_that_names_a_sensor_the_board_lacks_is_an_error_with_sensors(tmp_path):
    from rune.compiler.build import build
    from rune.container.rune_file import RuneFile

    (tmp_path / "Runefile.yml").write_text(TWO_SENSORS.replace("HZ", "16000").replace("samples: 32", "samples: 32, "
                                                                                       "source: 2"))
    capabilities = specs(RuneFile.load(build(tmp_path, tmp_path / "r.rune").path))
    disco = find_board("disco_f407vg")
    with pytest.raises(RuneError) as error:
        choose_sensors(disco, capabilities, set(), use=True)
    assert "capability 'motion' asks for ACCEL sensor 2 (source: 2), but the board 'disco_f407vg' has 1 ACCEL " \
           "sensor with a driver (source 0)" in str(error.value)
    assert "no sensor driver" not in str(error.value)
    assert set(choose_sensors(disco, capabilities, set())) == {0}  # by default, the host feeds it
    assert set(choose_sensors(disco, capabilities, {1}, use=True)) == {0}  # a file feeds it: its source is moot


def test_a_rate_the_microphone_driver_cannot_record_is_an_error(tmp_path):
    from rune.compiler.build import build
    from rune.container.rune_file import RuneFile

    (tmp_path / "Runefile.yml").write_text(TWO_SENSORS.replace("HZ", "44100").replace("[1600]", "[4410]"))
    capabilities = specs(RuneFile.load(build(tmp_path, tmp_path / "r.rune").path))
    with pytest.raises(RuneError, match="records SOUND at 7813 to 16000 Hz, not 44100") as error:
        choose_sensors(find_board("disco_f407vg"), capabilities, set())
    assert "--sound FILE.wav, or --no-sensors" in str(error.value)
    assert 0 not in choose_sensors(find_board("disco_f407vg"), capabilities, {0})  # the host feeds it: fine


def test_the_microphone_limits_match_its_driver():
    from rune.firmware.sensors import SOUND_RATES

    text = (ROOT / "firmware_templates" / "runtime" / "sensors" / "mp45dt02.c").read_text()
    limits = [int(re.search(rf"#define {name} (\d+)u", text).group(1)) for name in ("MIN_RATE_HZ", "MAX_RATE_HZ")]
    assert SOUND_RATES["mp45dt02"] == tuple(limits)


def test_a_driver_brings_the_files_it_includes_and_no_others():
    names = lambda drivers: sorted(p.name for p in driver_sources(drivers))  # noqa: E731
    assert names({"lis3dsh"}) == ["lis3dsh.c", "sensor.h"]
    assert names({"mp45dt02"}) == ["i2s_clock.c", "i2s_clock.h", "mp45dt02.c", "pdm_decimator.c",
                                   "pdm_decimator.h", "sensor.h"]


def config_lines(project) -> dict[str, str]:
    """The capability lines of the generated rune_config.c, by stage."""
    text = (project.folder / "src" / "rune_config.c").read_text()
    return {m.group(2): m.group(1) for m in re.finditer(r"^    (\{.*\}),  /\* (\w+) \(", text, re.M)}


def test_the_project_names_each_capabilitys_driver_and_holds_only_those(two_sensors, tmp_path):
    disco = find_board("disco_f407vg")
    sensors = choose_sensors(disco, specs(two_sensors), {0})  # the host feeds the sound
    project = generate_project(two_sensors, disco, tmp_path / "p", engine="wasm3", sensors=sensors)
    lines = config_lines(project)
    assert lines["audio"] == "{0, 4, 0, 0, 3200u, 1600u, 0.0, 0.0, 16000u, 0}"  # from the host
    assert lines["motion"] == "{2, 9, 0, 0, 384u, 96u, 0.0, 0.0, 0u, sensor_lis3dsh_read}"
    assert lines["rand"].startswith("{1, 9, ")
    assert sorted(p.name for p in (project.folder / "src" / "sensors").iterdir()) == ["lis3dsh.c", "sensor.h"]

    project = generate_project(two_sensors, disco, tmp_path / "p", engine="wasm3")  # the same folder, no sensors
    assert all(line.startswith("{0, ") for stage, line in config_lines(project).items() if stage != "rand")
    assert not (project.folder / "src" / "sensors").exists()
    assert "sensor_" not in (project.folder / "src" / "rune_config.c").read_text()


def test_rune_flash_reads_the_microphone_unless_given_a_recording(built_examples, tmp_path):
    clip = EXAMPLES / "micro_speech" / "samples" / "yes_1000ms.wav"
    cases = {"sensors": [], "file": ["--sound", clip], "host": ["--no-sensors"]}
    for name, flags in cases.items():
        result = rune_cli("flash", built_examples["micro_speech"], "--board", "disco_f407vg",
                      "--dry-run", "--project-dir", tmp_path / name, *flags)
        assert result.returncode == 0, result.stderr
        config = (tmp_path / name / "src" / "rune_config.c").read_text()
        if name == "sensors":
            assert "capability 'audio' (SOUND): from the board's MP45DT02 (driver mp45dt02)" in result.stderr
            assert "sensor_mp45dt02_read}," in config and (tmp_path / name / "src" / "sensors" / "mp45dt02.c").exists()
        else:
            assert "capability 'audio' (SOUND): from the host, over the serial link" in result.stderr
            assert "sensor_" not in config and not (tmp_path / name / "src" / "sensors").exists()
    result = rune_cli("flash", built_examples["micro_speech"], "--board", "stm32f4", "--dry-run",
                  "--project-dir", tmp_path / "emulated", "--sensors")
    assert result.returncode == 2 and "has no sensor driver for this rune's capabilities (SOUND)" in result.stderr


RUNTIME = ROOT / "firmware_templates" / "runtime"


def compile_native(tmp_path_factory, name: str, sources: list, *flags: str):
    if not shutil.which("gcc"):
        pytest.skip("needs gcc")
    binary = tmp_path_factory.mktemp(name) / name
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=all", *flags, *map(str, sources), "-o", str(binary)],
                   check=True, capture_output=True, text=True)
    return binary


@pytest.fixture(scope="module")
def microphone(tmp_path_factory):
    """The MP45DT02 driver natively, against simulated registers, DMA and interrupt
    (tests/mp45dt02_harness.c): -no-pie, so that its buffer's address fits the DMA's 32 bits."""
    sensors = RUNTIME / "sensors"
    binary = compile_native(tmp_path_factory, "mp45dt02_harness",
                            [ROOT / "tests" / "mp45dt02_harness.c", sensors / "mp45dt02.c",
                             sensors / "pdm_decimator.c", sensors / "i2s_clock.c"],
                            "-no-pie", f"-I{ROOT / 'tests' / 'mp45dt02_sim'}", f"-I{RUNTIME}", f"-I{sensors}")

    def run(hz: int, *operations: str) -> list[dict]:
        result = subprocess.run([str(binary), str(hz), *operations], capture_output=True, text=True, check=True,
                                timeout=120)
        return [json.loads(line) for line in result.stdout.splitlines()]

    return run


@pytest.mark.parametrize("hz, bit_hz", [(16000, 1_024_000), (12000, 1_152_000), (8000, 1_024_000)])
def test_the_microphone_records_continuously_across_reads(microphone, hz, bit_hz):
    """examples/micro_speech_streaming reads 20 ms at a time: each read continues the previous
    one, whatever the rune does in between (here 15 ms), and only the first 50 ms are dropped."""
    count = hz // 50
    reads = microphone(hz, *[op for _ in range(12) for op in (f"read:{count}", "wait:15")], f"read:{hz}")
    assert all(r["error"] is None and r["capture"] == 1 and r["bit_hz"] == bit_hz for r in reads)
    # 50 ms dropped, then one read after another; the last, a second, is longer than the ring
    assert [r["offset"] for r in reads] == [hz // 20 + i * count for i in range(13)]


def test_sound_lost_between_reads_is_an_error_and_the_next_read_starts_again(microphone):
    """The ring holds 256 ms at 16 kHz: a rune away for 300 ms still gets the samples that follow
    its last read, as long as there are any; then the read that needs what was lost fails, and
    the next one starts the capture again (dropping 50 ms again)."""
    reads = microphone(16000, "read:320", "wait:300", *["read:320"] * 14)
    assert all(r["error"] is None and r["capture"] == 1 for r in reads[:13])
    assert [r["offset"] for r in reads[:13]] == [800 + 320 * i for i in range(13)]  # 4096 samples: 12.8 reads
    assert reads[13]["error"] == ("MP45DT02: sound was lost: the rune fell more than 256 ms behind the microphone "
                                  "(all the driver holds at this rate); the next read records afresh")
    assert reads[14] == {"error": None, "capture": 2, "offset": 800, "bit_hz": 1_024_000}


@pytest.mark.parametrize("operation, message", [
    ("late", "MP45DT02: the decimation did not keep up with the microphone"),
    ("overrun", "MP45DT02: I2S2 overran (DMA too slow)"),
    ("stuck", "MP45DT02: its data line (PC3) stays at 0 or 1: no microphone answers"),
])
def test_a_capture_that_fails_says_why_and_starts_again(microphone, operation, message):
    reads = microphone(12000, "read:100", operation, "wait:30", "read:400", "read:100")
    assert reads[0]["error"] is None and reads[1]["error"] == message
    if operation != "stuck":
        assert reads[2] == {"error": None, "capture": 2, "offset": 600, "bit_hz": 1_152_000}


def test_a_microphone_that_never_answers_is_an_error(microphone):
    assert microphone(8000, "stuck", "read:10")[0]["error"] == \
        "MP45DT02: its data line (PC3) stays at 0 or 1: no microphone answers"


def test_the_microphone_stops_when_told_and_starts_again_at_the_next_read(microphone):
    reads = microphone(16000, "read:320", "stop", "read:320")
    assert reads[1] == {"stopped": True}
    assert reads[2] == {"error": None, "capture": 2, "offset": 800, "bit_hz": 1_024_000}


def capability_fills(tmp_path_factory, watchdog_ms: int, failures: int, *fills) -> list[dict]:
    binary = compile_native(tmp_path_factory, f"capabilities_{watchdog_ms}",
                            [ROOT / "tests" / "capabilities_harness.c", RUNTIME / "capabilities.c"],
                            f"-DWATCHDOG_MS={watchdog_ms}", f"-I{RUNTIME}")
    result = subprocess.run([str(binary), str(failures), *map(str, fills)], capture_output=True, text=True,
                            check=True)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_failed_sensor_is_asked_again_only_a_second_later(tmp_path_factory):
    """capabilities.c: after a failure the sensor is read again a second after it failed (not a
    flood of error lines), half the watchdog's time if that is shorter; after a success, at once."""
    # (capability, µs the rune computes before the fill): sensor, sensor, sensor, host, sensor
    fills = capability_fills(tmp_path_factory, 60_000, 2, 0, 0, 0, 100, 0, 100, 1, 0, 0, 5)
    assert [f["failed"] for f in fills] == [1, 1, 0, 0, 0]
    first, second, third = (f["sensor_read_at_us"] for f in fills[:3])
    assert 1_000_000 <= second - first < 1_000_100 and 1_000_000 <= third - second < 1_000_100
    assert fills[3]["sensor_read_at_us"] == -1 and fills[4]["sensor_read_at_us"] - third < 100
    short = capability_fills(tmp_path_factory, 600, 1, 0, 0, 0, 0)
    assert 300_000 <= short[1]["sensor_read_at_us"] - short[0]["sensor_read_at_us"] < 300_100


def test_sensors_stop_before_the_host_sends(tmp_path_factory):
    """The console is polled: the microphone's interrupt would make it lose bytes, so every
    sensor is told to stop before a capability comes over the serial link."""
    fills = capability_fills(tmp_path_factory, 60_000, 0, 0, 0, 1, 0, 1, 0)
    assert [f["sensor_stopped"] for f in fills] == [0, 1, 2]
