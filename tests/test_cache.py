"""`rune cache`: what the cache holds, and clearing it without touching anything else."""

from __future__ import annotations

import re

from conftest import EXAMPLES, ROOT, rune_cli


def test_every_cache_folder_the_code_uses_is_a_described_part():
    from rune.cache import PARTS

    used = set()
    for source in (ROOT / "toolchain" / "rune").rglob("*.py"):
        used.update(re.findall(r'cache_dir\(\) / "([^"]+)"', source.read_text()))
    assert "firmware" in used and "wasm" in used, "the pattern still finds the folders"
    assert used <= set(PARTS), f"folders without a description in rune.cache.PARTS: {sorted(used - set(PARTS))}"


def test_rune_cache_shows_and_clears_its_parts_and_nothing_else(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RUNE_CACHE_DIR", str(cache))
    assert rune_cli("build", EXAMPLES / "sine", "-o", tmp_path / "sine.rune").returncode == 0
    (cache / "photos").mkdir()
    (cache / "photos" / "holiday.jpg").write_bytes(b"\xff\xd8")

    listing = rune_cli("cache")
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    assert re.search(r"\bwasm\s+\d[\d.]* [KM]?B\s+1 files\s+compiled rune modules", rows["wasm"]), rows["wasm"]
    assert "0 files" in rows["firmware"]
    assert "not a part of Rune's cache: left alone" in rows["photos"]

    cleared = rune_cli("cache", "wasm", "--clear")
    assert cleared.returncode == 0 and cleared.stdout.startswith("deleted wasm from "), cleared.stdout
    assert not (cache / "wasm").exists() and (cache / "zig").is_dir()
    assert rune_cli("build", EXAMPLES / "sine", "-o", tmp_path / "again.rune").returncode == 0, "made again"
    assert (tmp_path / "again.rune").read_bytes() == (tmp_path / "sine.rune").read_bytes()
    assert len(list((cache / "wasm").iterdir())) == 1
    assert rune_cli("cache", "--clear").returncode == 0
    assert sorted(p.name for p in cache.iterdir()) == ["photos"], "only Rune's own parts are deleted"


def test_an_unknown_part_is_a_user_error():
    result = rune_cli("cache", "firmwre", "--clear")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the cache has no part 'firmwre'" in result.stderr and "did you mean 'firmware'?" in result.stderr


def test_a_damaged_cache_entry_is_made_again(tmp_path, monkeypatch):
    """A compiled module, a model's plan and a block's derived constants, each damaged in the cache,
    are made again rather than failing every later build."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RUNE_CACHE_DIR", str(cache))
    assert rune_cli("build", EXAMPLES / "micro_speech", "-o", tmp_path / "first.rune").returncode == 0
    [module] = (cache / "wasm").iterdir()
    [plan] = (cache / "engine" / "plans").iterdir()
    derived = list((cache / "derived").iterdir())
    assert derived, "the fft and noise_filtering blocks derive constants"
    module.write_bytes(module.read_bytes()[:100])  # cut short
    plan.write_bytes(b"garbage" * 10)
    for entry in derived:
        entry.write_bytes(b"{")
    again = rune_cli("build", EXAMPLES / "micro_speech", "-o", tmp_path / "again.rune")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.rune").read_bytes() == (tmp_path / "first.rune").read_bytes()
    assert len(module.read_bytes()) > 100 and plan.read_bytes()[:7] != b"garbage"
    assert all(entry.read_bytes() != b"{" for entry in derived)


def test_a_cache_folder_that_is_a_file_is_a_user_error(tmp_path, monkeypatch):
    (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setenv("RUNE_CACHE_DIR", str(tmp_path / "cache"))
    for args in (["cache"], ["build", EXAMPLES / "sine", "-o", tmp_path / "sine.rune"]):
        result = rune_cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"cannot use {tmp_path / 'cache'} as Rune's cache: it is a file" in result.stderr
