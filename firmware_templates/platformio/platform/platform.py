"""Rune's offline PlatformIO dev-platform: see builder/main.py."""

from platformio.public import PlatformBase


class RunearmPlatform(PlatformBase):
    pass
