"""The block framework as a block's author meets it: how references resolve, what the build says
about a block's C, the scaffolded block and `rune proc-block test`."""

from __future__ import annotations

from pathlib import Path

import pytest

from rune.blocks.registry import BlockNotFound, resolve


@pytest.mark.parametrize("reference", [
    "hotg-ai/proc-blocks@v0.11.3#fft",
    "hotg-ai/proc-blocks@refs/heads/master#fft",
    "hotg-ai/proc-blocks@refs/tags/v0.11.3#fft",
    "hotg-ai/proc-blocks@5e1f9c0d2a#fft",
    "https://github.com/hotg-ai/proc-blocks@refs/heads/master#fft",
    "hotg-ai/rune#proc_blocks/fft",
    "hotg-ai/rune@v0.4.0#proc_blocks/fft",
])
def test_the_original_projects_paths_resolve_to_the_builtin(reference):
    resolution = resolve(reference, Path("."))
    assert resolution.manifest.name == "fft" and resolution.manifest.builtin
    assert resolution.note == f"'{reference}' resolved to the built-in block 'fft'"


def test_an_unknown_block_behind_a_ref_is_reported_by_name():
    with pytest.raises(BlockNotFound) as error:
        resolve("hotg-ai/proc-blocks@refs/heads/master#fast_fourier", Path("."))
    assert "unknown processing block 'hotg-ai/proc-blocks@refs/heads/master#fast_fourier'" in str(error.value)
