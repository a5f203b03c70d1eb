"""The CLI turns failures into typed error events and exit codes.

These run `kiln_engine.cli.main` in this process (the SIGTERM test and one case here run the
real `python -m kiln_engine` and check stdout carries nothing but events).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from helpers import parse_events, spec_dict, start_engine
from kiln_engine.cli import main


def _run(spec: dict, folder: Path) -> tuple[int, list[dict]]:
    (folder / "spec.json").write_text(json.dumps(spec))
    stream = io.StringIO()
    code = main(["run", str(folder / "spec.json")], events_stream=stream)
    return code, parse_events(stream.getvalue())


def _subprocess_run(spec: dict, folder: Path) -> tuple[int, list[dict]]:
    proc = start_engine(spec, folder)
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, parse_events(out)


def test_missing_media_file_is_bad_dataset(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    line = json.loads(av_dataset.read_text().splitlines()[0])
    (data / "manifest.jsonl").write_text(json.dumps(line) + "\n")  # its files are not in `data`
    code, events = _subprocess_run(spec_dict(data / "manifest.jsonl", tmp_path / "out", engine_cache), tmp_path)
    assert code == 3
    assert events[-1] == {"event": "error", "type": "BadDataset",
                          "message": f"manifest.jsonl line 1: media file {line['media']} does not exist in {data}"}
    assert not (tmp_path / "out").exists()  # nothing was written


def test_bad_spec_and_missing_model(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    code, events = _run(spec_dict(av_dataset, tmp_path / "out", engine_cache, request={"rank": 7}), tmp_path / "a")
    assert code == 2 and events[-1]["type"] == "BadSpec" and "request.rank" in events[-1]["message"]
    (tmp_path / "b").mkdir()
    code, events = _run(spec_dict(av_dataset, tmp_path / "out", engine_cache, model={"kind": "checkpoint", "path": str(tmp_path / "none")}),
                        tmp_path / "b")
    assert code == 4 and events[-1]["type"] == "ModelNotFound" and str(tmp_path / "none") in events[-1]["message"]


def test_with_audio_true_without_audio_files_is_bad_dataset(engine_cache: Path, tmp_path: Path) -> None:
    from conftest import write_dataset

    manifest = write_dataset(tmp_path / "d", 1, audio=False)
    code, events = _run(spec_dict(manifest, tmp_path / "out", engine_cache, request={"with_audio": True}), tmp_path)
    assert code == 3 and events[-1]["type"] == "BadDataset" and "with_audio" in events[-1]["message"]


def test_model_info_describes_a_folder_and_rejects_a_missing_one(tiny_model_dir: Path, tmp_path: Path) -> None:
    stream = io.StringIO()
    assert main(["model-info", str(tiny_model_dir)], events_stream=stream) == 0
    events = parse_events(stream.getvalue())
    assert events[-1] == {"event": "done"}
    model = events[0]
    assert model["event"] == "model" and model["layers"] == 2 and model["generation"] == "LTX-2.3" and model["tiny_text_encoder"]
    stream = io.StringIO()
    assert main(["model-info", str(tmp_path / "none")], events_stream=stream) == 4
    assert parse_events(stream.getvalue())[-1]["type"] == "ModelNotFound"


def test_claimed_stdout_carries_only_events() -> None:
    import subprocess
    import sys

    from helpers import REPO

    code = ("import os\n"
            "from kiln_engine.events import EventSink, claim_stdout\n"
            "sink = EventSink(claim_stdout())\n"
            "print('python noise')\n"
            "os.write(1, b'C-level noise\\n')\n"
            "sink.log('hello')\n"
            "sink.done()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert parse_events(proc.stdout) == [{"event": "log", "level": "info", "message": "hello"}, {"event": "done"}]
    assert "python noise" in proc.stderr and "C-level noise" in proc.stderr
