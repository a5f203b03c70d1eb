"""Spec parsing: defaults, and a BadSpec naming the field for each kind of bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiln_engine.errors import BadSpec
from kiln_engine.spec import load_spec, parse_spec

BASE = {"manifest": "/d/manifest.jsonl", "output_dir": "/o", "model": {"kind": "tiny", "seed": 3}}


def test_defaults_follow_the_fal_request() -> None:
    spec = parse_spec(BASE)
    assert spec.rank == 32 and spec.steps == 2000 and spec.learning_rate == 2e-4 and spec.first_frame_p == 0.5
    assert spec.with_audio is None and spec.device == "cpu" and spec.seed == 42 and spec.model.seed == 3
    assert spec.cache_dir == Path("/o/cache") and spec.checkpoint_interval == 250 and spec.resume_from is None
    assert spec.request["stg_scale"] == 1.0 and spec.request["validation"] == []


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"model": {"kind": "huge"}}, "model.kind"),
        ({"model": {"kind": "checkpoint"}}, "model.path"),
        ({"device": "tpu"}, "device"),
        ({"quantization": "int4"}, "quantization"),
        ({"request": {"rank": 12}}, "request.rank"),
        ({"request": {"learning_rate": 5}}, "request.learning_rate"),
        ({"request": {"first_frame_conditioning_p": 1.5}}, "request.first_frame_conditioning_p"),
        ({"request": {"with_audio": "yes"}}, "request.with_audio"),
        ({"request": {"validation": [{"image_url": "x"}]}}, "request.validation[0]"),
        ({"request": {"validation_number_of_frames": 10}}, "request.validation_number_of_frames"),
        ({"checkpoint_interval": -1}, "checkpoint_interval"),
        ({"progress_interval": 0}, "progress_interval"),
        ({"timestep_sampling": "cosine"}, "timestep_sampling"),
        ({"validation_size": [64]}, "validation_size"),
    ],
)
def test_bad_fields_are_named(patch: dict, field: str) -> None:
    with pytest.raises(BadSpec, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_spec({**BASE, **patch})


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(BadSpec, match="does not exist"):
        load_spec(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(BadSpec, match="not valid JSON"):
        load_spec(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(BadSpec, match="JSON object"):
        load_spec(tmp_path / "list.json")
    with pytest.raises(BadSpec, match="'manifest' is missing"):
        parse_spec({"output_dir": "/o", "model": {"kind": "tiny"}})
    (tmp_path / "ok.json").write_text(json.dumps(BASE))
    assert load_spec(tmp_path / "ok.json").model.kind == "tiny"
