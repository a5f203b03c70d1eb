"""Installs the levers of `spec.speed` on a LoRA-injected `LTXModel`, and plans memory on CUDA.

The runner calls `plan_memory` before building the transformer (it may switch the loader to
an fp8 base when `auto_fit` is on and bf16 cannot fit), `install` after adding LoRA, and
`uninstall` after training, so validation and export run ltx-core's and peft's own code.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from ..train.lora import target_modules
from .checkpointing import apply_selective_checkpointing, remove_selective_checkpointing
from .compile import compile_blocks, uncompile_blocks
from .fused_lora import apply_fused_lora, remove_fused_lora
from .memory import GIB, Choice, JobShape, choose_setting
from .settings import SpeedSettings

_PREFIX = "model.diffusion_model."


def shape_from_checkpoint(ltx_file: Path, rank: int, with_audio: bool, video_tokens: int, audio_tokens: int) -> JobShape:
    """The job's shape read from the checkpoint's safetensors header (no weights loaded)."""
    from safetensors import safe_open

    targets = re.compile(target_modules(with_audio))
    base = lora = 0
    blocks: set[int] = set()
    width = 1
    with safe_open(str(ltx_file), "pt") as handle:
        for key in handle.keys():
            if not key.startswith(_PREFIX):
                continue
            shape = handle.get_slice(key).get_shape()
            numel = 1
            for d in shape:
                numel *= d
            base += numel
            name = key[len(_PREFIX):]
            if name.startswith("transformer_blocks."):
                blocks.add(int(name.split(".")[1]))
            if name.endswith(".weight") and targets.match(name[: -len(".weight")]) and len(shape) == 2:
                lora += rank * (shape[0] + shape[1])
                if ".attn1.to_q" in name:
                    width = shape[1]
    return JobShape(base_params=base, lora_params=lora, blocks=len(blocks), width=width,
                    video_tokens=video_tokens, audio_tokens=audio_tokens)


def sample_tokens(samples: list[Any]) -> tuple[int, int]:
    """The largest video and audio token counts over the encoded samples (the peak step)."""
    video = max((int(s.video_latent[0].numel()) for s in samples), default=0)
    audio = max((int(s.audio_latent.shape[1]) for s in samples if s.audio_latent is not None), default=0)
    return video, audio


def plan_memory(speed: SpeedSettings, shape: JobShape, free_bytes: int, quantization: str | None,
                gradient_checkpointing: bool | None) -> Choice:
    """The memory choice for a CUDA run: with `auto_fit` what is left open is chosen, else the spec's setting is estimated."""
    fixed_ckpt = speed.checkpoint
    if fixed_ckpt is None and gradient_checkpointing is not None:
        fixed_ckpt = "all" if gradient_checkpointing else "none"
    if not speed.auto_fit:
        fixed_ckpt = fixed_ckpt or "all"  # the CUDA default
        return choose_setting(shape, free_bytes, fixed_quantization=quantization, fixed_checkpoint=fixed_ckpt,
                              allow_fp8=quantization == "fp8")
    return choose_setting(shape, free_bytes, fixed_quantization=quantization, fixed_checkpoint=fixed_ckpt)


def checkpoint_mode(speed: SpeedSettings, default_on: bool, planned: str | None = None) -> str:
    """The checkpointing mode of the run: the flag, else the memory plan, else `gradient_checkpointing`'s default."""
    if speed.checkpoint is not None:
        return speed.checkpoint
    if planned is not None:
        return planned
    return "all" if default_on else "none"


def install(model: torch.nn.Module, speed: SpeedSettings, mode: str) -> list[str]:
    """Put the levers on `model` (the `LTXModel` with peft LoRA layers); returns log lines saying which."""
    lines = []
    if mode == "every_k":
        model.set_gradient_checkpointing(False)
        chosen = apply_selective_checkpointing(model, "every_k", speed.checkpoint_k)
        lines.append(f"speed: checkpointing {sum(chosen)} of {len(chosen)} blocks (every {speed.checkpoint_k})")
    else:
        model.set_gradient_checkpointing(mode == "all")
    if speed.lora_impl == "fused":
        lines.append(f"speed: fused LoRA forward on {apply_fused_lora(model)} projections")
    if speed.compile:
        lines.append(f"speed: torch.compile ({speed.compile_backend}) of {compile_blocks(model, speed.compile_backend)} blocks")
    return lines


def uninstall(model: torch.nn.Module) -> None:
    """Take every lever off `model` (ltx-core's block loop, peft's forward, eager blocks)."""
    uncompile_blocks(model)
    remove_fused_lora(model)
    remove_selective_checkpointing(model)


def free_cuda_bytes(device: torch.device) -> int:
    """Free memory of the CUDA device the run uses."""
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)


__all__ = ["GIB", "checkpoint_mode", "free_cuda_bytes", "install", "plan_memory", "sample_tokens",
           "shape_from_checkpoint", "uninstall"]
