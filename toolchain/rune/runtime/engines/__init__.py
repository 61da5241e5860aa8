"""WebAssembly engines that run a rune's module: wasmtime (in process, compiled, with an
interruptible time limit) and wasm3 (the interpreter the firmware embeds, in a worker process so
that no rune can hang or crash the host)."""

from __future__ import annotations

from rune.runtime.engines.base import Engine, EngineCrash, EngineTimeout, EngineTrap

ENGINES = ("wasmtime", "wasm3")


def create_engine(name: str, module: bytes, host, timeout: float) -> Engine:
    """An engine running `module`, which must conform to the ABI (abi.module_problems, which the
    Runtime checks first): engines rely on its fixed memory and its exports' types."""
    if name == "wasmtime":
        from rune.runtime.engines.wasmtime_engine import WasmtimeEngine

        return WasmtimeEngine(module, host, timeout)
    if name == "wasm3":
        from rune.runtime.engines.wasm3_engine import Wasm3Engine

        return Wasm3Engine(module, host, timeout)
    raise ValueError(f"unknown engine '{name}' (engines: {', '.join(ENGINES)})")


__all__ = ["ENGINES", "Engine", "EngineCrash", "EngineTimeout", "EngineTrap", "create_engine"]
