"""Learning-rate schedule: optional linear warm-up, then linear decay to 0.1x (the official default)."""
from __future__ import annotations

import torch


def lr_factor(step: int, total: int, warmup: int, final: float = 0.1) -> float:
    """Multiplier of the peak learning rate before optimiser step `step` (0-based)."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    span = max(total - warmup, 1)
    progress = min(max(step - warmup, 0) / span, 1.0)
    return 1.0 + (final - 1.0) * progress


def make_scheduler(optimizer: torch.optim.Optimizer, total: int, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR stepping once per optimiser step."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total, warmup))
