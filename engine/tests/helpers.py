"""Helpers shared by engine tests: specs, in-process runs, subprocess runs with parsed events."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kiln_engine.events import EventSink

REPO = Path(__file__).resolve().parents[2]


def spec_dict(manifest: Path, out: Path, cache: Path, **overrides: Any) -> dict[str, Any]:
    """A tiny-model CPU spec; `request` entries merge into the defaults given here."""
    request = {"rank": 8, "number_of_steps": 6, "learning_rate": 1e-3, "first_frame_conditioning_p": 0.5}
    request.update(overrides.pop("request", {}))
    spec = {"manifest": str(manifest), "output_dir": str(out), "cache_dir": str(cache), "model": {"kind": "tiny", "seed": 0},
            "device": "cpu", "request": request, "checkpoint_interval": 0, "seed": 42}
    spec.update(overrides)
    return spec


class ListSink(EventSink):
    """An EventSink for in-process runs that keeps the events."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        super().__init__(self.buffer)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event emitted so far, decoded."""
        return [json.loads(line) for line in self.buffer.getvalue().splitlines()]


def run_in_process(spec: dict[str, Any]):
    """Run a spec in this process; returns (RunContext, events)."""
    from kiln_engine.runner import run
    from kiln_engine.spec import parse_spec
    from kiln_engine.train.loop import StopFlag

    sink = ListSink()
    ctx = run(parse_spec(spec), sink, StopFlag())
    return ctx, sink.events


def start_engine(spec: dict[str, Any], folder: Path) -> subprocess.Popen:
    """Start `python -m kiln_engine run` on a spec written into `folder`."""
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return subprocess.Popen([sys.executable, "-m", "kiln_engine", "run", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def parse_events(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line must be one JSON object with an `event` field."""
    events = []
    for line in stdout.splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict) and "event" in obj, line
        events.append(obj)
    return events
