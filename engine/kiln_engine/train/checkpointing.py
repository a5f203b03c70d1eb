"""Training checkpoints: LoRA weights + optimiser + scheduler + RNG states + step, written atomically.

Layout: `<output_dir>/checkpoints/step_000123/{lora.safetensors, state.pt}`; a folder is
written under a temporary name and renamed into place, so a crash never leaves a torn one.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from ..errors import BadCheckpoint

LORA_FILE = "lora.safetensors"
STATE_FILE = "state.pt"
#: Key prefix of saved LoRA tensors: the layout ltx-core's LoRA loader and ComfyUI read.
KEY_PREFIX = "diffusion_model."


@dataclass
class TrainingState:
    """What a checkpoint restores besides the LoRA weights."""

    step: int
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    rng: dict[str, Any]
    fingerprint: dict[str, Any]


def save_checkpoint(root: Path, step: int, lora: dict[str, torch.Tensor], state: TrainingState, keep_last: int = 2) -> Path:
    """Write checkpoint `step` under `root` atomically; prune older ones beyond `keep_last`."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:06d}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-step-", dir=root))
    try:
        save_file({KEY_PREFIX + k: v.detach().float().contiguous().cpu() for k, v in lora.items()}, str(tmp / LORA_FILE),
                  metadata={"step": str(step)})
        torch.save(
            {"step": state.step, "optimizer": state.optimizer, "scheduler": state.scheduler, "rng": state.rng,
             "fingerprint": state.fingerprint},
            tmp / STATE_FILE,
        )
        for f in (tmp / LORA_FILE, tmp / STATE_FILE):
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    existing = sorted(p for p in root.glob("step_*") if p.is_dir())
    for old in existing[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def find_checkpoint(path: Path) -> Path:
    """A checkpoint folder: `path` itself, or the latest `step_*` inside it."""
    if (path / STATE_FILE).is_file() and (path / LORA_FILE).is_file():
        return path
    candidates = sorted(p for p in path.glob("step_*") if (p / STATE_FILE).is_file() and (p / LORA_FILE).is_file()) if path.is_dir() else []
    if not candidates:
        raise BadCheckpoint(f"resume_from {path} is not a checkpoint folder (with {LORA_FILE} and {STATE_FILE}) nor holds one")
    return candidates[-1]


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], TrainingState]:
    """The LoRA weights (module-path keys) and the training state of a checkpoint folder."""
    folder = find_checkpoint(path)
    try:
        raw = load_file(str(folder / LORA_FILE))
        blob = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise BadCheckpoint(f"checkpoint {folder} cannot be read ({exc}); delete it to restart from the previous one") from None
    lora = {k.removeprefix(KEY_PREFIX): v for k, v in raw.items()}
    state = TrainingState(step=int(blob["step"]), optimizer=blob["optimizer"], scheduler=blob["scheduler"], rng=blob["rng"],
                          fingerprint=blob["fingerprint"])
    return lora, state
