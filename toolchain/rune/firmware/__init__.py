"""Firmware: a PlatformIO project that runs a .rune on a board (wasm3, Rune's model engine, the
serial protocol), built offline, flashed to QEMU or a real board."""
