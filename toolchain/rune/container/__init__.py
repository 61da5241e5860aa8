"""The .rune container and the WebAssembly binary format under it."""
