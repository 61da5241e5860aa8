"""`rune cache`."""

from __future__ import annotations

import click


@click.command("cache")
@click.argument("parts", nargs=-1, metavar="[PART]...")
@click.option("--clear", is_flag=True, help="Delete the parts named (all of the cache if none is named).")
def cache_command(parts, clear):
    """Show what Rune's cache holds, folder by folder, and how much room it takes; with --clear,
    delete it. Everything in it is made again when needed (which takes time: a firmware is
    rebuilt from scratch, the wasm3 sources are downloaded again).

    \b
    rune cache                    each part: its size and what it holds
    rune cache firmware --clear   delete the PlatformIO projects of every rune flashed so far

    The cache is $RUNE_CACHE_DIR, else $XDG_CACHE_HOME/rune, else ~/.cache/rune. Do not clear it
    while another rune command is running."""
    from rune import cache
    from rune.diagnostics import Diagnostic, RuneError, closest
    from rune.paths import cache_dir

    for name in parts:
        if name not in cache.PARTS:
            meant = closest(name, cache.PARTS)
            hint = f"did you mean '{meant}'?" if meant else f"its parts: {', '.join(cache.PARTS)}"
            raise RuneError(Diagnostic(f"the cache has no part '{name}'", hint=hint))
    chosen = cache.parts(list(dict.fromkeys(parts)))
    if clear:
        for part in chosen:
            cache.clear(part)
        freed = sum(p.bytes for p in chosen)
        click.echo(f"deleted {', '.join(p.name for p in chosen if p.files) or 'nothing'} from {cache_dir()}: "
                   f"{_size(freed)} freed")
        return
    click.echo(f"{cache_dir()}: {_size(sum(p.bytes for p in chosen))}")
    for part in chosen:
        click.echo(f"  {part.name:<16}{_size(part.bytes):>10}{part.files:>8,} files  {part.what}")
    if not parts:
        for folder in cache.strangers():
            click.echo(f"  {folder.name:<16}{'':>24}  not a part of Rune's cache: left alone")


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
