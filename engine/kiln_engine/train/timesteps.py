"""Noise-level (sigma) samplers, matching the official LTX-2 trainer's defaults."""
from __future__ import annotations

import math

import torch


def shift_for_tokens(tokens: int, min_tokens: int = 1024, max_tokens: int = 4096,
                     min_shift: float = 0.95, max_shift: float = 2.05) -> float:
    """Logit-normal mean: linear in the video token count, 0.95 at 1024 and 2.05 at 4096 (capped there)."""
    tokens = min(tokens, max_tokens)
    slope = (max_shift - min_shift) / (max_tokens - min_tokens)
    return min_shift + slope * (tokens - min_tokens)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def sample_sigma(kind: str, batch: int, video_tokens: int, generator: torch.Generator,
                 std: float = 1.0, eps: float = 1e-3, uniform_prob: float = 0.1) -> torch.Tensor:
    """Per-sample sigma in [0, 1], shape [batch] (CPU; drawn from `generator` for determinism).

    `shifted_logit_normal`: sigmoid(N(mu, std)) stretched between its 0.5 and 99.9 percentiles
    to cover [0, 1], values below eps reflected, and with probability `uniform_prob` replaced by
    U(eps, 1). `uniform`: U(0, 1).
    """
    if kind == "uniform":
        return torch.rand(batch, generator=generator)
    mu = shift_for_tokens(video_tokens)
    s = torch.sigmoid(torch.randn(batch, generator=generator) * std + mu)
    hi = _sigmoid(mu + 3.0902 * std)
    lo = _sigmoid(mu - 2.5758 * std)
    s = (s - lo) / (hi - lo)
    s = torch.where(s >= eps, s, 2 * eps - s).clamp(0.0, 1.0)
    uniform = (1 - eps) * torch.rand(batch, generator=generator) + eps
    pick = torch.rand(batch, generator=generator)
    return torch.where(pick > uniform_prob, s, uniform)
