"""What the runtime needs of a WebAssembly engine."""

from __future__ import annotations

from abc import ABC, abstractmethod


class EngineTrap(Exception):
    """The module trapped; the message says why (e.g. "out of bounds memory access")."""


class EngineTimeout(Exception):
    """The call ran past the time limit and was stopped."""


class EngineCrash(Exception):
    """The engine itself failed (could not load the module, or its worker died)."""


class Engine(ABC):
    name = "engine"
    memory_size = 0  # bytes of the module's memory

    @abstractmethod
    def call(self, export: str) -> int:
        """Call an exported () -> i32 function (or () -> () for _initialize)."""

    @abstractmethod
    def read(self, address: int, length: int) -> bytes:
        """Read the module's memory (used for the status block after a call)."""

    def close(self) -> None:
        pass
