"""spec.speed through a whole engine run: the levers train the same LoRA as the plain path; bad flags are named."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from helpers import run_in_process, spec_dict
from kiln_engine.errors import BadSpec
from kiln_engine.spec import parse_spec
from kiln_engine.speed.settings import SpeedSettings


def test_levers_train_the_same_lora(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    base = dict(skip_validation=True, gradient_checkpointing=True, request={"number_of_steps": 3})
    plain_ctx, plain_events = run_in_process(spec_dict(av_dataset, tmp_path / "plain", engine_cache, **base))
    fast_ctx, fast_events = run_in_process(spec_dict(av_dataset, tmp_path / "fast", engine_cache, **base,
                                                     speed={"lora_impl": "fused", "checkpoint": "every_k"}))
    logs = [e["message"] for e in fast_events if e["event"] == "log"]
    assert any("fused LoRA forward on" in m for m in logs) and any("checkpointing 1 of 2 blocks" in m for m in logs)
    assert not any(m.startswith("speed:") for e in plain_events if e["event"] == "log" for m in [e["message"]])
    assert plain_ctx.lora.keys() == fast_ctx.lora.keys()
    for k in plain_ctx.lora:
        torch.testing.assert_close(fast_ctx.lora[k], plain_ctx.lora[k], rtol=1e-4, atol=1e-6, msg=lambda m, k=k: f"{k}: {m}")
    plain_losses = [e["loss"] for e in plain_events if e.get("phase") == "training" and "loss" in e]
    fast_losses = [e["loss"] for e in fast_events if e.get("phase") == "training" and "loss" in e]
    assert fast_losses == pytest.approx(plain_losses, rel=1e-5)
    # After training the model runs peft's and ltx-core's own code again (validation, export).
    assert all("forward" not in m.__dict__ for m in fast_ctx.model.modules())
    assert "_process_transformer_blocks" not in fast_ctx.model.__dict__


@pytest.mark.parametrize("speed, field", [
    ({"lora_impl": "triton"}, "speed.lora_impl"),
    ({"checkpoint": "half"}, "speed.checkpoint"),
    ({"checkpoint_k": 0}, "speed.checkpoint_k"),
    ({"compile": "yes"}, "speed.compile"),
    ({"auto_fit": 1}, "speed.auto_fit"),
    ({"compile_backend": "tvm"}, "speed.compile_backend"),
    ({"fast": True}, "speed.fast"),
    ("fused", "speed"),
])
def test_bad_speed_fields_are_named(speed: object, field: str, tmp_path: Path) -> None:
    with pytest.raises(BadSpec) as err:
        parse_spec(spec_dict(tmp_path / "m.jsonl", tmp_path, tmp_path, speed=speed))
    assert field in str(err.value)


def test_speed_defaults_are_the_plain_path(tmp_path: Path) -> None:
    spec = parse_spec(spec_dict(tmp_path / "m.jsonl", tmp_path, tmp_path))
    assert spec.speed == SpeedSettings() and spec.speed.is_plain()
    assert spec.speed.lora_impl == "peft" and spec.speed.checkpoint is None and not spec.speed.compile
    spec = parse_spec(spec_dict(tmp_path / "m.jsonl", tmp_path, tmp_path, speed=None))
    assert spec.speed.is_plain()
