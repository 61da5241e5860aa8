"""Boards' sensors as data: which capabilities a firmware reads from the board's own sensors and
which the host feeds, how `rune flash` chooses, and what the generated project holds (only the
drivers it uses). The drivers' arithmetic is in test_pdm_decimator.py; the firmware builds in
hil_tests/test_sensor_firmware.py."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT
from rune.boards import find_board, load_board
from rune.diagnostics import RuneError
from rune.firmware.project import generate_project
from rune.firmware.sensors import choose_sensors, describe, driver_sources
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


def rune(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "rune", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


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
    result = rune("boards")
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
    lines = describe(disco, capabilities, choose_sensors(disco, capabilities, {0}))
    assert lines == ["capability 'audio' (SOUND): from the host, over the serial link",
                     "capability 'motion' (ACCEL): from the board's LIS3DSH (driver lis3dsh)"]
    assert describe(find_board("netduinoplus2"), capabilities, {}) == []


def test_asking_for_sensors_that_cannot_be_had_is_an_error(two_sensors):
    capabilities = specs(two_sensors)
    with pytest.raises(RuneError, match="capability 'audio' is fed from a file, and --sensors gives it to the "
                                        "MP45DT02"):
        choose_sensors(find_board("disco_f407vg"), capabilities, {0}, use=True)
    with pytest.raises(RuneError, match="the board 'netduinoplus2' has no sensor driver for this rune's capabilities "
                                        r"\(ACCEL, SOUND\)"):
        choose_sensors(find_board("netduinoplus2"), capabilities, set(), use=True)


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
        result = rune("flash", built_examples["micro_speech"], "--board", "disco_f407vg",
                      "--dry-run", "--project-dir", tmp_path / name, *flags)
        assert result.returncode == 0, result.stderr
        config = (tmp_path / name / "src" / "rune_config.c").read_text()
        if name == "sensors":
            assert "capability 'audio' (SOUND): from the board's MP45DT02 (driver mp45dt02)" in result.stderr
            assert "sensor_mp45dt02_read}," in config and (tmp_path / name / "src" / "sensors" / "mp45dt02.c").exists()
        else:
            assert "capability 'audio' (SOUND): from the host, over the serial link" in result.stderr
            assert "sensor_" not in config and not (tmp_path / name / "src" / "sensors").exists()
    result = rune("flash", built_examples["micro_speech"], "--board", "stm32f4", "--dry-run",
                  "--project-dir", tmp_path / "emulated", "--sensors")
    assert result.returncode == 2 and "has no sensor driver for this rune's capabilities (SOUND)" in result.stderr
