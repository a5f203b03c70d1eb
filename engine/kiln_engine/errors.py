"""Typed engine errors: each carries the `type` reported in the error event and an exit code."""
from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine reports as an `error` event.

    `kind` is the event's `type` field; `exit_code` is the process exit status.
    """

    kind: str = "EngineError"
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadSpec(EngineError):
    """The spec file is missing, not JSON, or has a bad field."""

    kind = "BadSpec"
    exit_code = 2


class BadDataset(EngineError):
    """The manifest or one of its media files is missing or malformed."""

    kind = "BadDataset"
    exit_code = 3


class ModelNotFound(EngineError):
    """The model folder or one of its files is missing or unreadable."""

    kind = "ModelNotFound"
    exit_code = 4


class OutOfMemory(EngineError):
    """The device ran out of memory."""

    kind = "OutOfMemory"
    exit_code = 5


class BadCheckpoint(EngineError):
    """A training checkpoint to resume from is missing or does not match the job."""

    kind = "BadCheckpoint"
    exit_code = 6


class Interrupted(EngineError):
    """SIGTERM/SIGINT arrived; a checkpoint was saved when one was possible."""

    kind = "Interrupted"
    exit_code = 75


class InternalError(EngineError):
    """An unexpected failure inside the engine (a bug or an unsupported environment)."""

    kind = "InternalError"
    exit_code = 1
