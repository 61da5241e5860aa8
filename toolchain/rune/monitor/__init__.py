"""Reading what a board says: its JSON lines, checked for loss and corruption; and `rune monitor`."""
