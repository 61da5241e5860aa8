"""Rune: declare an embedded machine-learning pipeline once, run it on the desktop and on microcontrollers."""

__version__ = "0.1.0"
