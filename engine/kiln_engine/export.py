"""Exports the trained LoRA for inference: a `.safetensors` ltx-core and ComfyUI load, and a config JSON.

Key layout: `diffusion_model.<module path>.lora_A.weight` / `.lora_B.weight`, e.g.
`diffusion_model.transformer_blocks.0.attn1.to_q.lora_A.weight` (A is [rank, in], B is [out, rank]).
ltx-core fuses `W + strength * (B @ A)` with no alpha / rank factor, so peft's scaling
(alpha / rank, and any per-module scaling) is folded into B here; a strength of 1.0 then
reproduces the trained model. Tensors are bf16, the release precision.

Entry points: `export_lora(model, path, ...)` for any peft-wrapped `LTXModel`,
`write_inference_config(...)`, and `run(ctx)`, which the engine's runner calls after
validation with its `RunContext`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft.tuners.lora.layer import LoraLayer
from safetensors.torch import save_file

from .files import atomic_write
# Checkpoints save their LoRA in the release key layout too: one prefix (ltx-core's
# `LTXV_LORA_COMFY_RENAMING_MAP` strips it, ComfyUI expects it) for both.
from .train.checkpointing import KEY_PREFIX

LORA_FILE_NAME = "lora.safetensors"
CONFIG_FILE_NAME = "config.json"
#: Wrapper prefixes that are not part of the model's own module paths.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.", "base_model.model.")


@dataclass(frozen=True)
class ExportedLora:
    """What `export_lora` wrote."""

    path: Path
    rank: int
    modules: list[str]


def _module_path(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix):], True
    return name


def _within_block(module: str) -> str:
    """`transformer_blocks.3.attn1.to_out.0` -> `attn1.to_out.0`."""
    parts = module.split(".")
    return ".".join(parts[2:]) if parts[0] == "transformer_blocks" and len(parts) > 2 else module


def lora_tensors(model: torch.nn.Module, adapter: str | None = None) -> tuple[dict[str, torch.Tensor], int]:
    """The LoRA of every adapted module in ltx-core's key layout (fp32, scaling folded into B), and the rank."""
    tensors: dict[str, torch.Tensor] = {}
    ranks: set[int] = set()
    for name, module in model.named_modules():
        if not isinstance(module, LoraLayer):
            continue
        names = [adapter] if adapter else list(module.active_adapters)
        names = [a for a in names if a in module.lora_A]
        if not names:
            continue
        if len(names) > 1:
            raise ValueError(f"module {name} has several active adapters {names}; export one at a time")
        a_name = names[0]
        if module.use_dora.get(a_name, False):
            raise ValueError(f"module {name} uses DoRA, which ltx-core's LoRA fusion cannot load")
        a = module.lora_A[a_name].weight.detach().float()
        b = module.lora_B[a_name].weight.detach().float() * float(module.scaling[a_name])
        path = _module_path(name)
        tensors[f"{KEY_PREFIX}{path}.lora_A.weight"] = a.cpu().contiguous()
        tensors[f"{KEY_PREFIX}{path}.lora_B.weight"] = b.cpu().contiguous()
        ranks.add(a.shape[0])
    if not tensors:
        raise ValueError("the model carries no LoRA adapter to export")
    if len(ranks) != 1:
        raise ValueError(f"adapters of different ranks {sorted(ranks)} in one model")
    return tensors, ranks.pop()


def export_lora(model: torch.nn.Module, path: str | Path, *, trigger_phrase: str = "", base_model: str = "",
                with_audio: bool | None = None, dtype: torch.dtype = torch.bfloat16,
                extra_metadata: dict[str, str] | None = None) -> ExportedLora:
    """Writes the model's LoRA to `path` (atomically) and returns what was written."""
    tensors, rank = lora_tensors(model)
    modules = sorted({k[len(KEY_PREFIX):].rsplit(".lora_", 1)[0] for k in tensors})
    metadata = {
        "format": "pt",
        "kiln.format": "ltx-core/comfyui lora (diffusion_model.<module>.lora_A|lora_B.weight)",
        "rank": str(rank),
        # ltx-core applies B @ A unscaled; peft's alpha / rank was folded into B.
        "alpha": str(rank),
        "alpha_folded": "true",
        "trigger_phrase": trigger_phrase,
        "base_model": base_model,
        "modules": str(len(modules)),
        "target_modules": ",".join(sorted({_within_block(m) for m in modules})),
    }
    if with_audio is not None:
        metadata["with_audio"] = "true" if with_audio else "false"
    metadata.update(extra_metadata or {})
    out = {k: v.to(dtype).contiguous() for k, v in tensors.items()}
    target = Path(path)
    atomic_write(target, lambda tmp: save_file(out, tmp, metadata=metadata))
    return ExportedLora(path=target, rank=rank, modules=modules)


def write_inference_config(path: str | Path, *, lora_file: str, base_model: str, trigger_phrase: str, rank: int,
                           width: int, height: int, frames: int, fps: float, with_audio: bool,
                           request: dict[str, Any], recommended_scale: float = 1.0,
                           extra: dict[str, Any] | None = None) -> Path:
    """Writes the JSON a user (or an inference service) needs to apply the LoRA as it was trained."""
    config: dict[str, Any] = {
        "format": "kiln-lora-config/1",
        "base_model": base_model,
        "lora_file": lora_file,
        "recommended_scale": recommended_scale,
        "trigger_phrase": trigger_phrase,
        "rank": rank,
        "resolution": {"width": width, "height": height, "name": request.get("resolution"),
                       "aspect_ratio": request.get("aspect_ratio")},
        "number_of_frames": frames,
        "frame_rate": fps,
        "with_audio": with_audio,
        "key_layout": "diffusion_model.<module>.lora_A.weight / lora_B.weight (alpha folded into B)",
        "request": request,
    }
    config.update(extra or {})
    target = Path(path)
    atomic_write(target, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n"))
    return target


def run(ctx: Any) -> None:
    """The runner's export stage: writes `lora.safetensors` and `config.json` and announces both."""
    from .validation.settings import RESOLUTIONS

    spec, req = ctx.spec, ctx.spec.request
    base_model = ctx.files.ltx_file.name if spec.model.kind == "checkpoint" else f"{ctx.files.ltx_file.name} (Kiln tiny test model, seed {spec.model.seed})"
    exported = export_lora(ctx.model, ctx.output_dir / LORA_FILE_NAME, trigger_phrase=req.get("trigger_phrase", ""),
                           base_model=base_model, with_audio=ctx.with_audio,
                           extra_metadata={"steps": str(ctx.step)})
    ctx.events.artifact("lora", str(exported.path))
    width, height = RESOLUTIONS.get(req.get("resolution"), {}).get(req.get("aspect_ratio"), (None, None))
    config = write_inference_config(
        ctx.output_dir / CONFIG_FILE_NAME, lora_file=exported.path.name, base_model=base_model,
        trigger_phrase=req.get("trigger_phrase", ""), rank=exported.rank, width=width, height=height,
        frames=req.get("number_of_frames"), fps=req.get("frame_rate"), with_audio=ctx.with_audio, request=req,
        extra={"steps_trained": ctx.step})
    ctx.events.artifact("config", str(config))
