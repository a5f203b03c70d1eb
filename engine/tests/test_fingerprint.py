"""The resume fingerprint: quantization and the objective's settings are in it; older checkpoints still resume."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from helpers import run_in_process, spec_dict
from kiln_engine.errors import BadCheckpoint
from kiln_engine.train.fingerprint import ORIGINAL_KEYS, build_fingerprint, differences


def _fingerprint(**changes: object) -> dict:
    base = dict(rank=8, with_audio=True, model="tiny-v1-seed0", learning_rate=1e-3, steps=6, world_size=1, seed=42,
                quantization=None, first_frame_p=0.5, warmup_steps=0, max_grad_norm=1.0, weight_decay=0.01,
                timestep_sampling="shifted_logit_normal")
    base.update(changes)
    return build_fingerprint(**base)  # type: ignore[arg-type]


def test_differences_name_each_changed_setting_but_not_steps() -> None:
    ours = _fingerprint()
    assert differences(ours, _fingerprint(steps=600)) == []
    assert differences(ours, _fingerprint(quantization="fp8")) == ["quantization"]
    assert differences(ours, _fingerprint(first_frame_p=0.2, weight_decay=0.0)) == ["first_frame_p", "weight_decay"]
    assert differences(ours, _fingerprint(timestep_sampling="uniform", warmup_steps=10, max_grad_norm=0.0)) == [
        "max_grad_norm", "timestep_sampling", "warmup_steps"]


def test_a_checkpoint_older_than_a_key_is_not_compared_on_it() -> None:
    old = {k: v for k, v in _fingerprint().items() if k in ORIGINAL_KEYS}
    assert differences(old, _fingerprint()) == []
    # Its value then is unknown: a job that ran with fp8 before the upgrade must not fail after it.
    assert differences(old, _fingerprint(quantization="fp8")) == []
    assert differences(old, _fingerprint(rank=16)) == ["rank"]
    # The original keys are always compared, even when one is missing.
    assert differences({k: v for k, v in old.items() if k != "seed"}, _fingerprint()) == ["seed"]


def test_resume_with_another_quantization_is_refused(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    run_in_process(spec_dict(av_dataset, tmp_path / "a", engine_cache, request={"number_of_steps": 2}, checkpoint_interval=1))
    state = torch.load(tmp_path / "a" / "checkpoints" / "step_000002" / "state.pt", weights_only=False)
    assert state["fingerprint"]["quantization"] is None
    with pytest.raises(BadCheckpoint, match=r"different settings \(quantization\)"):
        run_in_process(spec_dict(av_dataset, tmp_path / "b", engine_cache, request={"number_of_steps": 4},
                                 quantization="fp8", resume_from=str(tmp_path / "a" / "checkpoints")))


def test_a_checkpoint_from_before_the_new_keys_resumes(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    run_in_process(spec_dict(av_dataset, tmp_path / "a", engine_cache, request={"number_of_steps": 2}, checkpoint_interval=1))
    path = tmp_path / "a" / "checkpoints" / "step_000002" / "state.pt"
    state = torch.load(path, weights_only=False)
    # Rewrite it as the engine before this change wrote it: only the original keys.
    state["fingerprint"] = {k: v for k, v in state["fingerprint"].items() if k in ORIGINAL_KEYS}
    assert "quantization" not in state["fingerprint"]
    torch.save(state, path)
    _, events = run_in_process(spec_dict(av_dataset, tmp_path / "b", engine_cache, request={"number_of_steps": 4},
                                         resume_from=str(path.parent)))
    steps = [e["step"] for e in events if e["event"] == "progress" and e["phase"] == "training"]
    assert steps == [3, 4]
    assert any(e["event"] == "log" and "resumed from" in e["message"] for e in events)
