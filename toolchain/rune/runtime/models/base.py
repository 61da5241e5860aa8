"""The model backend interface."""

from __future__ import annotations

from abc import ABC, abstractmethod


class ModelSession(ABC):
    @abstractmethod
    def invoke(self, inputs: list[bytes]) -> list[bytes]:
        """Run one inference; inputs and outputs in the order of the model's tensors."""

    def reset(self) -> None:
        """Forget any state kept between inferences (LSTM, SVDF)."""


class ModelBackend(ABC):
    name = "backend"

    @abstractmethod
    def load(self, model: bytes, entry: dict, plan: bytes | None) -> ModelSession:
        """A session for one model; `entry` is the model's manifest entry, `plan` its plan for Rune's
        engine if the rune has one. Raises ModelFailure."""
