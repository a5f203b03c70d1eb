"""The settings fingerprint a checkpoint carries, and the check that a resume keeps them.

Only settings that change what the trained LoRA means are in it: the base (model, fp8 or not),
the LoRA's shape (rank, audio), the objective (first-frame p, timestep sampling) and the
optimisation (lr, warm-up, clipping, weight decay, seed, world size). Speed levers proven to
train the same LoRA (fused LoRA, activation checkpointing, compile) are not, and `steps` is
recorded but never compared: a job may be resumed with more steps.
"""
from __future__ import annotations

from typing import Any

#: Keys every checkpoint has had since the first engine; a checkpoint missing one is refused.
ORIGINAL_KEYS = frozenset({"rank", "with_audio", "model", "learning_rate", "steps", "world_size", "seed"})

#: Recorded but not compared.
UNCOMPARED_KEYS = frozenset({"steps"})


def build_fingerprint(*, rank: int, with_audio: bool, model: str, learning_rate: float, steps: int, world_size: int,
                      seed: int, quantization: str | None, first_frame_p: float, warmup_steps: int,
                      max_grad_norm: float, weight_decay: float, timestep_sampling: str) -> dict[str, Any]:
    """The fingerprint of a run; `quantization` is the base actually built (auto_fit may pick fp8)."""
    return {"rank": rank, "with_audio": with_audio, "model": model, "learning_rate": learning_rate, "steps": steps,
            "world_size": world_size, "seed": seed, "quantization": quantization, "first_frame_p": first_frame_p,
            "warmup_steps": warmup_steps, "max_grad_norm": max_grad_norm, "weight_decay": weight_decay,
            "timestep_sampling": timestep_sampling}


def differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The sorted names of the settings that differ between a checkpoint and this run.

    A key added after the first engine (quantization, ...) that an older checkpoint lacks is not
    compared: its value then is unknown, and refusing would fail every job that was running across
    the upgrade (the worker reports BadCheckpoint as a failed job). Such a checkpoint resumes as
    it did before the key existed.
    """
    keys = (set(saved) | set(current) | ORIGINAL_KEYS) - UNCOMPARED_KEYS
    missing = object()
    diff = []
    for key in keys:
        if key not in ORIGINAL_KEYS and key not in saved:
            continue
        if saved.get(key, missing) != current.get(key, missing):
            diff.append(key)
    return sorted(diff)


__all__ = ["ORIGINAL_KEYS", "UNCOMPARED_KEYS", "build_fingerprint", "differences"]
