"""`rune boards`."""

from __future__ import annotations

import json

import click


@click.command("boards")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per board.")
def boards_command(as_json):
    """The boards Rune can build firmware for, with their memory, the capabilities their own
    sensors can feed (sensor drivers), and whether each can be built on this machine (and why
    not)."""
    from rune.boards import all_boards

    rows = []
    for board in all_boards():
        buildable, why = board.buildable_here()
        rows.append((board, buildable, why))
    if as_json:
        for board, buildable, why in rows:
            click.echo(json.dumps({"id": board.id, "name": board.name, "family": board.family,
                                   "emulated": board.emulated, "flash_bytes": board.flash.bytes,
                                   "ram_bytes": board.ram.bytes, "buildable": buildable, "why_not": why or None,
                                   "sensors": [{"kind": s.kind, "part": s.part, "what": s.what, "driver": s.driver}
                                               for s in board.sensors]}))
        return
    click.echo(f"{'board':<16}{'family':<9}{'flash':>8}{'RAM':>8}  {'kind':<9} {'sensors':<14} builds here")
    for board, buildable, why in rows:
        kind = "emulated" if board.emulated else "hardware"
        default = f" (default for {board.family})" if board.default_for_family else ""
        click.echo(f"{board.id:<16}{board.family:<9}{board.flash.bytes // 1024:>6}KB{board.ram.bytes // 1024:>6}KB  "
                   f"{kind:<9} {_sensors(board):<14} {'yes' if buildable else 'no: ' + why}{default}")


def _sensors(board) -> str:
    """The capability kinds the board's sensor drivers feed: 'ACCEL, SOUND', or '-'."""
    driven = sorted({s.kind for s in board.sensors if s.driver})
    if driven:
        return ", ".join(driven)
    return "no drivers" if board.sensors else "-"
