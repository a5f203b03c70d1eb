"""LoRA adapters (peft) on the transformer's attention projections, as the official trainer targets them."""
from __future__ import annotations

import re

import torch
from peft import LoraConfig, get_peft_model
from peft.peft_model import PeftModel

#: Projections of every attention module (video self/text, audio self/text, audio<->video).
TARGET_PROJECTIONS = ("to_q", "to_k", "to_v", "to_out.0")
_VIDEO_ATTN = ("attn1", "attn2")
_AUDIO_ATTN = ("audio_attn1", "audio_attn2", "audio_to_video_attn", "video_to_audio_attn")


def target_modules(with_audio: bool) -> str:
    """peft `target_modules` regex: video attention only, or every attention when audio trains too."""
    attns = _VIDEO_ATTN + (_AUDIO_ATTN if with_audio else ())
    projections = "|".join(re.escape(p) for p in TARGET_PROJECTIONS)
    return rf"^transformer_blocks\.\d+\.({'|'.join(attns)})\.({projections})$"


def add_lora(model: torch.nn.Module, rank: int, with_audio: bool) -> PeftModel:
    """Freeze the base, add LoRA (alpha = rank, fp32 weights) and return the peft wrapper."""
    for p in model.parameters():
        p.requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=rank, lora_dropout=0.0, target_modules=target_modules(with_audio),
                        init_lora_weights=True)
    peft_model = get_peft_model(model, config)
    for name, p in peft_model.named_parameters():
        if "lora_" in name:
            p.data = p.data.float()
    return peft_model


def lora_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The LoRA tensors keyed by module path (`transformer_blocks.0.attn1.to_q.lora_A.weight`)."""
    out = {}
    for name, p in model.named_parameters():
        if "lora_" not in name:
            continue
        key = name
        for prefix in ("module.", "base_model.model."):
            if key.startswith(prefix):
                key = key[len(prefix):]
        key = key.replace(".default", "")
        out[key] = p.detach()
    return out


def lora_modules(model: torch.nn.Module) -> list[str]:
    """Module paths that carry a LoRA adapter."""
    return sorted({k.rsplit(".lora_", 1)[0] for k in lora_state_dict(model)})
