"""An engine whose parent dies stops as on SIGTERM: checkpoint saved, exit 75 (real process trees).

The test process makes itself a child subreaper while a tree runs, so a process orphaned by the
SIGKILL is re-parented to the test (not to init): the test can then `waitpid` it for its exit status,
and the engine sees its parent pid change exactly as it would under init.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import torch
from safetensors.torch import load_file

from helpers import REPO, spec_dict
from kiln_engine.parent_watch import ParentWatch, ancestors, levels_from_env, parent_of

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and PR_SET_CHILD_SUBREAPER")

PR_SET_CHILD_SUBREAPER = 36

# One link of a process chain: `chain.py N LEVELS`. N > 0 starts `chain.py N-1`, prints "<N> <pid>" and reports
# its child's exit status when it ends ("exit <pid> <returncode>"); N == 0 starts a ParentWatch and sleeps.
CHAIN = """
import subprocess, sys, os, time
n, levels = int(sys.argv[1]), int(sys.argv[2])
print(n, os.getpid(), flush=True)
if n == 0:
    from kiln_engine.parent_watch import ParentWatch
    ParentWatch(levels=levels, interval=0.1).start()
    time.sleep(60)
    sys.exit(3)  # the watch did not fire
child = subprocess.Popen([sys.executable, sys.argv[0], str(n - 1), str(levels)])
print("exit", child.pid, child.wait(), flush=True)
"""

# The stand-in for the Swift worker: runs the engine with piped stdout/stderr, as the worker does, and
# prints the engine's pid once the engine reports its first training step.
WORKER = """
import subprocess, sys, threading, time
engine = subprocess.Popen([sys.executable, "-m", "kiln_engine", "run", sys.argv[1]], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
threading.Thread(target=lambda: [None for _ in engine.stderr], daemon=True).start()
for line in engine.stdout:
    if '"event":"progress","phase":"training"' in line:
        print(engine.pid, flush=True)
        break
time.sleep(600)
"""


@contextmanager
def subreaper() -> Iterator[None]:
    """Adopt orphaned descendants while the block runs."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        pytest.skip(f"PR_SET_CHILD_SUBREAPER failed (errno {ctypes.get_errno()})")
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def wait_adopted(pid: int, timeout: float) -> int | None:
    """The wait status of an adopted child once it exits, or None if it is still running after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        time.sleep(0.05)
    return None


def kill_and_reap(pid: int) -> None:
    """Cleanup after a failed assertion: nothing of the tree may outlive the test."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def start_chain(tmp_path: Path, depth: int, levels: int) -> tuple[subprocess.Popen, dict[int, int]]:
    """Start `chain.py depth levels`; return it and {link: pid} once the watcher at link 0 runs."""
    script = tmp_path / "chain.py"
    script.write_text(CHAIN)
    top = subprocess.Popen([sys.executable, str(script), str(depth), str(levels)], stdout=subprocess.PIPE, text=True,
                           cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "engine")})
    assert top.stdout is not None
    pids: dict[int, int] = {}
    while 0 not in pids:
        link, pid = top.stdout.readline().split()
        pids[int(link)] = int(pid)
    time.sleep(0.3)  # the watcher has started polling (it records its ancestors before the print above returns)
    return top, pids


def test_ancestors_and_levels() -> None:
    assert parent_of(os.getpid()) == os.getppid()
    assert ancestors(2) == [os.getppid(), parent_of(os.getppid())]
    assert parent_of(2**22 + 12345) is None  # no such process
    assert levels_from_env({}) == 1 and levels_from_env({"TORCHELASTIC_RUN_ID": "none"}) == 2
    watch = ParentWatch(levels=2)
    assert not watch.orphaned()


def test_a_child_whose_parent_dies_gets_sigterm(tmp_path: Path) -> None:
    with subreaper():
        parent, pids = start_chain(tmp_path, depth=1, levels=1)
        watcher = pids[0]
        try:
            time.sleep(1.0)  # ten polls with the parent alive: the watch must not fire
            os.kill(watcher, 0)
            parent.kill()
            parent.wait()
            status = wait_adopted(watcher, timeout=5)
            assert status is not None, "the orphaned child did not stop within 5 s"
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, status
        finally:
            kill_and_reap(watcher)


def test_under_torchrun_a_dead_grandparent_stops_the_rank(tmp_path: Path) -> None:
    """worker (killed) -> torchrun agent (lives on) -> rank: the rank stops although its own parent lives."""
    with subreaper():
        worker, pids = start_chain(tmp_path, depth=2, levels=2)
        agent, rank = pids[1], pids[0]
        try:
            assert worker.stdout is not None
            worker.kill()
            worker.wait()
            # The agent was adopted by this process and reports its child's fate on the inherited stdout.
            line = worker.stdout.readline().split()
            assert line[:2] == ["exit", str(rank)], line
            assert int(line[2]) == -signal.SIGTERM, line
            assert wait_adopted(agent, timeout=5) == 0
        finally:
            kill_and_reap(rank)
            kill_and_reap(agent)


def test_engine_stops_with_a_checkpoint_when_its_worker_is_killed(av_dataset: Path, engine_cache: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = spec_dict(av_dataset, out, engine_cache, request={"number_of_steps": 100000})
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "worker.py").write_text(WORKER)
    with subreaper():
        worker = subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(tmp_path / "spec.json")],
                                  stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert worker.stdout is not None
        engine = int(worker.stdout.readline())
        try:
            worker.kill()
            worker.wait()
            killed_at = time.monotonic()
            status = wait_adopted(engine, timeout=30)
            assert status is not None, "the orphaned engine kept running for 30 s"
            seconds = time.monotonic() - killed_at
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 75, f"wait status {status}"
            assert seconds < 15, f"the engine took {seconds:.1f} s to stop"
        finally:
            kill_and_reap(engine)
    checkpoints = sorted((out / "checkpoints").glob("step_*"))
    assert len(checkpoints) == 1, checkpoints
    state = torch.load(checkpoints[0] / "state.pt", weights_only=False)
    assert state["step"] >= 1 and checkpoints[0].name == f"step_{state['step']:06d}"
    weights = load_file(str(checkpoints[0] / "lora.safetensors"))
    assert weights and all(k.startswith("diffusion_model.transformer_blocks.") for k in weights)
