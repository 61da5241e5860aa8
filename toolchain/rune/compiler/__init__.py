"""The Runefile compiler: check a pipeline, generate its C glue, build the wasm module, write the .rune."""
