"""Selective activation checkpointing: checkpoint every k-th transformer block, run the rest plainly.

ltx-core's `LTXModel` checkpoints either every block or none. Checkpointing only some blocks
trades memory for less recomputation: with k = 2 half the blocks keep their activations and
are not recomputed in the backward pass. Recomputation is exact (no dropout in the model), so
loss and gradients equal the plain path's.
"""
from __future__ import annotations

from typing import Any

import torch

_ORIGINAL = "_kiln_process_blocks"


def checkpointed_blocks(num_blocks: int, mode: str, k: int) -> list[bool]:
    """Which blocks are checkpointed under `mode` ("all", "none", "every_k" with `k`)."""
    if mode == "all":
        return [True] * num_blocks
    if mode == "none":
        return [False] * num_blocks
    if mode == "every_k":
        return [i % k == 0 for i in range(num_blocks)]
    raise ValueError(f"unknown checkpoint mode {mode!r}")


def apply_selective_checkpointing(model: torch.nn.Module, mode: str, k: int = 2) -> list[bool]:
    """Install the block loop on an `LTXModel` (in place); returns the per-block choice."""
    chosen = checkpointed_blocks(len(model.transformer_blocks), mode, k)

    def process(video: Any, audio: Any, perturbations: Any) -> tuple[Any, Any]:
        for block, ckpt in zip(model.transformer_blocks, chosen):
            if ckpt and model.training:
                video, audio = torch.utils.checkpoint.checkpoint(block, video, audio, perturbations, use_reentrant=False)
            else:
                video, audio = block(video=video, audio=audio, perturbations=perturbations)
        return video, audio

    if not hasattr(model, _ORIGINAL):
        setattr(model, _ORIGINAL, True)
    model._process_transformer_blocks = process
    return chosen


def remove_selective_checkpointing(model: torch.nn.Module) -> None:
    """Give the model ltx-core's block loop back."""
    model.__dict__.pop("_process_transformer_blocks", None)
    model.__dict__.pop(_ORIGINAL, None)
