"""JSON-lines events on standard output (ARCHITECTURE.md §7), and keeping stdout clean.

`claim_stdout()` takes the process's real stdout for events and points `sys.stdout` (and
file descriptor 1, so C libraries too) at stderr: nothing but events can reach stdout.
"""
from __future__ import annotations

import json
import math
import os
import select
import sys
import threading
from typing import IO, Any


class EventSink:
    """Writes one JSON object per line to a private handle; thread-safe; rank 0 only under DDP."""

    def __init__(self, stream: IO[str] | None, enabled: bool = True) -> None:
        self._stream = stream
        self._enabled = enabled and stream is not None
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Write `{"event": event, **fields}` and flush."""
        if not self._enabled:
            return
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in fields.items()}
        line = json.dumps({"event": event, **clean}, separators=(",", ":"))
        with self._lock:
            assert self._stream is not None
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except BrokenPipeError:
                # The reader (the worker) is gone: keep going so a stop can still save its checkpoint.
                self._enabled = False
                _silence_stream(self._stream)

    def phase(self, name: str) -> None:
        """`{"event":"phase","name":...}` (encoding, training, validating, exporting)."""
        self.emit("phase", name=name)

    def log(self, message: str, level: str = "info") -> None:
        """`{"event":"log","level","message"}`."""
        self.emit("log", level=level, message=message)

    def progress(self, phase: str, step: int, total: int, **extra: Any) -> None:
        """`{"event":"progress","phase","step","total",...}` with loss, lr, seconds_per_step, eta_seconds."""
        self.emit("progress", phase=phase, step=step, total=total, **extra)

    def checkpoint(self, step: int, path: str) -> None:
        """`{"event":"checkpoint","step","path"}`."""
        self.emit("checkpoint", step=step, path=path)

    def artifact(self, kind: str, path: str) -> None:
        """`{"event":"artifact","kind":"lora|config|video","path"}`."""
        self.emit("artifact", kind=kind, path=path)

    def error(self, kind: str, message: str) -> None:
        """`{"event":"error","type","message"}`."""
        self.emit("error", type=kind, message=message)

    def done(self) -> None:
        """`{"event":"done"}`: the last line of a successful run."""
        self.emit("done")


def claim_stdout() -> IO[str]:
    """Take fd 1 for events; everything else written to stdout (Python or C) goes to stderr."""
    sys.stdout.flush()
    private_fd = os.dup(1)
    os.dup2(2, 1)
    events = os.fdopen(private_fd, "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr
    return events


def _point_at_devnull(fd: int) -> None:
    """Make `fd` write to /dev/null."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def _silence_stream(stream: IO[str]) -> None:
    """Send `stream`'s fd (and so its unflushed buffer, flushed again at close) to /dev/null."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # an in-memory stream: nothing to redirect
        return
    _point_at_devnull(fd)


def silence_if_unread(fd: int) -> bool:
    """Point `fd` at /dev/null when it is a pipe or socket whose reader is gone; True if it was.

    An orphaned engine writes stderr (and stdout) into a pipe nobody reads: every write would
    raise BrokenPipeError, and a failing flush at exit turns the exit code into 120.
    """
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    for _, revents in poller.poll(0):
        if revents & (select.POLLERR | select.POLLHUP):
            _point_at_devnull(fd)
            return True
    return False


class NullSink(EventSink):
    """A sink that drops everything (library use, non-zero DDP ranks)."""

    def __init__(self) -> None:
        super().__init__(None, enabled=False)
