"""What can go wrong while running a rune. All are RuneErrors: the CLI prints them and exits 2,
and none of them leaves the host process in a bad state."""

from __future__ import annotations

from rune.diagnostics import Diagnostic, RuneError


class RunError(RuneError):
    def __init__(self, message: str, hint: str | None = None, stage: str | None = None):
        super().__init__(Diagnostic(message, stage=stage, hint=hint))
        self.message = message
        self.hint = hint
        self.stage = stage

    def at_stage(self, stage: str) -> "RunError":
        """The same error, said of `stage` (for errors raised where the stage is not known)."""
        return type(self)(self.message, hint=self.hint, stage=stage)


class BadRune(RunError):
    """The file is not a rune this runtime can run."""


class MissingSource(RunError):
    """A capability has no data source."""


class SourceError(RunError):
    """A data source cannot provide what its capability needs (unreadable file, too short, ...)."""


class InputWarning(UserWarning):
    """An input was used, but not as it is (a short recording padded with silence, ...). `rune run`
    prints these on stderr; the Python API reports them through the `warnings` module."""


class Trap(RunError):
    """The rune's code trapped (out-of-bounds access, unreachable, stack overflow)."""


class Timeout(RunError):
    """The rune ran longer than its time limit."""


class StageFailed(RunError):
    """A processing block, model or output reported an error."""


class ModelFailure(RunError):
    """A model cannot be loaded or run."""
