"""LoRA applied without peft's per-call dtype casts: base(x) + (x A^T) B^T as one addmm.

peft's `lora.Linear.forward` casts the input to the LoRA weights' dtype (fp32) on every call,
multiplies by the scale, adds, and casts the result back: under bf16 autocast that is two
casts of the activation plus a mul and an add per projection, forward and backward, on 1,152
projections of the 22B model. The fused forward keeps peft's modules and parameters (names,
state dicts, checkpoints and export are unchanged) and replaces only the forward of each
adapted `Linear` instance: the LoRA path runs in the activation's dtype (autocast casts the
fp32 leaf weights once per autocast region and caches them) and adds into the base output
with `addmm`, whose `alpha` carries the scale.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from peft.tuners.lora.layer import Linear as PeftLoraLinear

_ORIGINAL = "_kiln_peft_forward"


def _fused_forward(module: PeftLoraLinear, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    adapters = module.active_adapters
    if (args or kwargs or module.disable_adapters or module.merged or len(adapters) != 1
            or adapters[0] not in module.lora_A or adapters[0] in module.lora_variant):
        return getattr(module, _ORIGINAL)(x, *args, **kwargs)  # anything unusual: peft's own path
    name = adapters[0]
    a = module.lora_A[name].weight
    b = module.lora_B[name].weight
    result = module.base_layer(x)
    if not torch.is_autocast_enabled(x.device.type) and a.dtype != x.dtype:
        a, b = a.to(x.dtype), b.to(x.dtype)
    hidden = F.linear(x, a)
    out = torch.addmm(result.reshape(-1, result.shape[-1]), hidden.reshape(-1, hidden.shape[-1]), b.t(),
                      alpha=module.scaling[name])
    return out.view(result.shape)


def lora_linears(model: torch.nn.Module) -> list[PeftLoraLinear]:
    """The peft LoRA `Linear` modules of `model`."""
    return [m for m in model.modules() if isinstance(m, PeftLoraLinear)]


def apply_fused_lora(model: torch.nn.Module) -> int:
    """Switch every peft LoRA Linear of `model` to the fused forward; returns how many."""
    modules = lora_linears(model)
    for m in modules:
        if not hasattr(m, _ORIGINAL):
            setattr(m, _ORIGINAL, m.forward)
            m.forward = _fused_forward.__get__(m)
    return len(modules)


def remove_fused_lora(model: torch.nn.Module) -> None:
    """Give every LoRA Linear its peft forward back."""
    for m in lora_linears(model):
        m.__dict__.pop("forward", None)  # the class's (peft's) forward shows through again
        m.__dict__.pop(_ORIGINAL, None)
