"""Data-parallel training: two gloo processes under torchrun end with identical LoRA weights."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from helpers import REPO, spec_dict


def test_two_process_gloo_run_has_identical_lora_on_both_ranks(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    spec = spec_dict(av_dataset, tmp_path / "out", engine_cache, request={"number_of_steps": 4, "learning_rate": 2e-3})
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(Path(__file__).parent / "ddp_worker.py"), str(tmp_path / "spec.json"), str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert rank0.keys() == rank1.keys() and rank0
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    assert any(v.abs().sum() > 0 for k, v in rank0.items() if "lora_B" in k)  # it trained
    # Only rank 0 writes checkpoints and artifacts.
    assert (tmp_path / "out" / "checkpoints" / "step_000004" / "lora.safetensors").is_file()
