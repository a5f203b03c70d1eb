"""`python -m kiln_engine run <spec.json>`: JSON-lines events on stdout, typed exit codes.

`python -m kiln_engine model-info <folder>` checks a model folder: one `model` event, then `done`.

Exit codes: 0 after `done`; 2 BadSpec; 3 BadDataset; 4 ModelNotFound; 5 OutOfMemory;
6 BadCheckpoint; 75 Interrupted (SIGTERM, checkpoint saved); 1 anything else.
An engine whose parent process dies stops as on SIGTERM (`parent_watch`).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import traceback
import warnings
from typing import IO

from .errors import EngineError, InternalError, Interrupted, OutOfMemory


def _out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def main(argv: list[str] | None = None, events_stream: IO[str] | None = None) -> int:
    """Entry point; returns the process exit code.

    `events_stream`: where events go when embedded (tests); by default the process's stdout is
    claimed for events and everything else is sent to stderr.
    """
    from .events import EventSink, claim_stdout

    embedded = events_stream is not None
    if events_stream is None:
        events_stream = claim_stdout()
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        logging.captureWarnings(True)
        warnings.simplefilter("default")
    parser = argparse.ArgumentParser(prog="kiln_engine", description="Kiln's LTX-2.3 LoRA training engine")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run a training job described by a spec JSON file")
    run_p.add_argument("spec", help="path of the spec JSON")
    info_p = sub.add_parser("model-info", help="check a model folder and describe it (one `model` event)")
    info_p.add_argument("folder", help="the model folder")
    args = parser.parse_args(argv)

    import os

    rank = int(os.environ.get("RANK", "0"))
    events = EventSink(events_stream, enabled=rank == 0)
    from .train.loop import StopFlag

    stop = StopFlag()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    watch = None
    try:
        from .runner import install_signal_handlers, run
        from .spec import load_spec

        if args.command == "model-info":
            from .model_info import describe_model

            events.emit("model", **describe_model(args.folder))
        else:
            install_signal_handlers(stop)
            if not embedded:  # an orphaned engine (its worker was killed) stops as on SIGTERM; see parent_watch
                from .parent_watch import start_parent_watch

                watch = start_parent_watch()
            spec = load_spec(args.spec)
            run(spec, events, stop)
    except EngineError as exc:
        events.error(exc.kind, exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        err = Interrupted("interrupted before a checkpoint could be saved")
        events.error(err.kind, err.message)
        return err.exit_code
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed event
        traceback.print_exc(file=sys.stderr)
        if _out_of_memory(exc):
            err: EngineError = OutOfMemory(
                f"the device ran out of memory ({str(exc).splitlines()[0]}); use a lower rank, fewer frames or a smaller "
                "resolution, or quantization \"fp8\"")
        else:
            err = InternalError(f"{type(exc).__name__}: {exc}")
        events.error(err.kind, err.message)
        return err.exit_code
    finally:
        from .dist import shutdown

        if watch is not None:
            watch.stop()
        shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    events.done()
    if not embedded:
        events_stream.close()
    return 0
