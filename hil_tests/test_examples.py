"""Every example on the board says, bit for bit, what it says on the desktop."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES, SHARED, Sequence, device_lines
from rune.compiler.build import build
from rune.runtime import ImageSource, RandomSource, Runtime, SoundSource


def desktop_lines(rune_path, sources: dict, inferences: int) -> list[str]:
    with Runtime.load(rune_path) as runtime:
        for index, source in sources.items():
            runtime.set_source(index, source)
        return [o.json_line() for _ in range(inferences) for o in runtime.run()]


@pytest.fixture(scope="module")
def runes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hil-runes")
    return {name: build(EXAMPLES / name, folder / f"{name}.rune", target="device").path
            for name in ("sine", "micro_speech", "micro_speech_streaming", "person_detection")}


def test_sine(device, runes):
    with device(runes["sine"], {}, random_seed=11) as session:
        on_board = [line.text for line in device_lines(session, 20)]
    assert on_board == desktop_lines(runes["sine"], {0: RandomSource(11)}, 20)


def test_micro_speech(device, runes):
    clips = [SHARED / "audio" / f"{name}_1000ms.wav" for name in ("yes", "no", "silence", "noise")]
    with device(runes["micro_speech"], {0: Sequence(SoundSource(c) for c in clips)}) as session:
        on_board = [line.text for line in device_lines(session, len(clips))]
    assert on_board == desktop_lines(runes["micro_speech"], {0: Sequence(SoundSource(c) for c in clips)}, len(clips))
    assert [line for line in on_board if '"utf8"' in line] == [
        f'{{"type_name":"utf8","channel":0,"elements":["{label}"],"dimensions":[1]}}'
        for label in ("yes", "no", "silence", "silence")]


def test_person_detection(device, runes):
    images = [SHARED / "images" / name for name in ("person.png", "no_person.png")]
    with device(runes["person_detection"], {0: Sequence(ImageSource(i) for i in images)}) as session:
        on_board = [line.text for line in device_lines(session, len(images))]
    assert on_board == desktop_lines(runes["person_detection"], {0: Sequence(ImageSource(i) for i in images)},
                                     len(images))


def test_micro_speech_streaming(device, runes):
    """20 ms of audio per inference: the blocks' state carries the stream on the board as here."""
    recording = EXAMPLES / "micro_speech_streaming" / "samples" / "silence_yes_silence_no.wav"
    inferences = 150  # 3 s: the "yes" begins after 2 s of silence and is heard from about 2.6 s
    with device(runes["micro_speech_streaming"], {0: SoundSource(recording, stride_ms=20)}) as session:
        on_board = [line.text for line in device_lines(session, inferences)]
    assert on_board == desktop_lines(runes["micro_speech_streaming"], {0: SoundSource(recording, stride_ms=20)},
                                     inferences)
    assert '"yes"' in "".join(on_board[-20:])
