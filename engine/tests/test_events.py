"""The events writer outlives its reader: a broken pipe silences it instead of failing the run."""
from __future__ import annotations

import os

from kiln_engine.events import EventSink, silence_if_unread


def test_sink_survives_a_closed_reader() -> None:
    read, write = os.pipe()
    stream = os.fdopen(write, "w", buffering=1, encoding="utf-8")
    sink = EventSink(stream)
    sink.log("first")
    assert os.read(read, 4096).startswith(b'{"event":"log"')
    os.close(read)
    sink.log("the reader is gone")  # BrokenPipeError inside, swallowed
    sink.done()
    stream.close()  # the fd now points at /dev/null: closing flushes nowhere and raises nothing


def test_silence_if_unread_only_redirects_a_dead_pipe() -> None:
    read, write = os.pipe()
    try:
        assert silence_if_unread(write) is False
        os.close(read)
        assert silence_if_unread(write) is True
        os.write(write, b"goes to /dev/null")  # would raise BrokenPipeError without the redirect
    finally:
        os.close(write)
