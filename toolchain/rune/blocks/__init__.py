"""Processing blocks: manifests, typed arguments, finding blocks, and the block API (rune_block.h)."""
