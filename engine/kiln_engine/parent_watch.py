"""Stop the engine when the process that started it dies (the Swift worker was SIGKILLed).

A daemon thread records the parent's pid at start and polls `os.getppid()`; when it changes the
engine was reparented (to init or a subreaper), so nobody reads its events any more. The
watcher then sends SIGTERM to its own process: the one stop path there is (finish the step, save
a checkpoint, exit with `Interrupted`'s code 75).

`prctl(PR_SET_PDEATHSIG)` is not used on purpose: it fires when the parent *thread* that forked
exits, and the Swift worker spawns from pool threads that come and go.

Under torchrun the ranks' parent is torchrun's agent, not the worker; the worker is the agent's
parent. Each rank therefore also watches its grandparent (`levels=2`, read from /proc), so a
dead worker stops every rank even while the agent lives on, and a dead agent stops them too.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

from .events import silence_if_unread

log = logging.getLogger(__name__)

#: Seconds between checks: a reparented engine stops within about this long plus one step.
DEFAULT_INTERVAL = 0.5


def parent_of(pid: int) -> int | None:
    """The parent pid of `pid` from /proc, or None (no /proc, or the process is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[1]) if len(fields) > 1 else None


def ancestors(levels: int) -> list[int]:
    """Our parent, its parent, ... (`levels` of them, fewer where they cannot be read)."""
    chain = [os.getppid()]
    while len(chain) < levels:
        above = parent_of(chain[-1])
        if above is None:
            break
        chain.append(above)
    return chain


def levels_from_env(environ: dict[str, str] | None = None) -> int:
    """2 under torchrun (the agent sits between the worker and us), else 1."""
    env = os.environ if environ is None else environ
    return 2 if "TORCHELASTIC_RUN_ID" in env else 1


class ParentWatch:
    """Polls the recorded ancestors; on the first change sends `signum` to this process once."""

    def __init__(self, levels: int = 1, interval: float = DEFAULT_INTERVAL, signum: int = signal.SIGTERM) -> None:
        self.interval = interval
        self.signum = signum
        self.chain = ancestors(levels)
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kiln-parent-watch", daemon=True)

    def start(self) -> ParentWatch:
        """Begin polling; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (the engine is exiting anyway, or an embedded run ended)."""
        self._stop.set()

    def orphaned(self) -> bool:
        """Whether any recorded ancestor is no longer where it was."""
        if os.getppid() != self.chain[0]:
            return True
        # Above the parent only /proc can tell; a missing entry means that process is gone.
        return any(parent_of(child) != parent for child, parent in zip(self.chain, self.chain[1:]))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self.orphaned():
                self.fired = True
                for fd in (1, 2):  # their reader was most likely the dead parent
                    silence_if_unread(fd)
                log.warning("the process that started the engine is gone (ancestors were %s); stopping as on SIGTERM",
                            self.chain)
                os.kill(os.getpid(), self.signum)
                return


def start_parent_watch(interval: float = DEFAULT_INTERVAL) -> ParentWatch:
    """Watch this process's parent (and torchrun's agent's parent under torchrun)."""
    return ParentWatch(levels_from_env(), interval).start()


__all__ = ["DEFAULT_INTERVAL", "ParentWatch", "ancestors", "levels_from_env", "parent_of", "start_parent_watch"]
