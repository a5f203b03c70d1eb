"""Data-parallel training: two gloo processes under torchrun end with identical LoRA weights, and resume."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from helpers import REPO, spec_dict


def _torchrun(spec: dict, folder: Path) -> tuple[dict, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(Path(__file__).parent / "ddp_worker.py"), str(folder / "spec.json"), str(folder)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_file(str(folder / "rank0.safetensors")), load_file(str(folder / "rank1.safetensors"))


def test_two_process_gloo_run_has_identical_lora_on_both_ranks_and_resumes(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    request = {"number_of_steps": 4, "learning_rate": 2e-3}
    rank0, rank1 = _torchrun(spec_dict(av_dataset, tmp_path / "full" / "out", engine_cache, request=request, checkpoint_interval=2),
                             tmp_path / "full")
    assert rank0.keys() == rank1.keys() and rank0
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    assert any(v.abs().sum() > 0 for k, v in rank0.items() if "lora_B" in k)  # it trained
    # Only rank 0 writes checkpoints; the step-2 one carries both ranks' RNG states.
    ckpt = tmp_path / "full" / "out" / "checkpoints" / "step_000002"
    assert (ckpt / "lora.safetensors").is_file()
    assert len(torch.load(ckpt / "state.pt", weights_only=False)["rng"]["per_rank"]) == 2
    # Resuming the 2-process job from step 2 reaches the same weights as the uninterrupted run.
    resumed, _ = _torchrun(spec_dict(av_dataset, tmp_path / "resumed" / "out", engine_cache, request=request, resume_from=str(ckpt)),
                           tmp_path / "resumed")
    for key in rank0:
        torch.testing.assert_close(resumed[key], rank0[key], rtol=1e-5, atol=1e-6)
