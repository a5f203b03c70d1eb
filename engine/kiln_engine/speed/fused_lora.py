"""LoRA applied without peft's per-call dtype casts: base(x) + (x A^T) B^T as one addmm.

peft's `lora.Linear.forward` casts the input to the LoRA weights' dtype (fp32) on every call,
multiplies by the scale, adds, and casts the result back: under bf16 autocast that is two
casts of the activation plus a mul and an add per projection, forward and backward, on 1,152
projections of the 22B model. The fused forward keeps peft's modules and parameters (names,
state dicts, checkpoints and export are unchanged) and replaces only the forward of each
adapted `Linear` instance: the LoRA path runs in the activation's dtype (autocast casts the
fp32 leaf weights once per autocast region and caches them) and adds into the base output
with `addmm`, whose `alpha` carries the scale.

Under autocast, the fp32 LoRA weights are cast to the compute dtype once per training forward
(a pre-hook on the model fills a per-module copy) instead of once per call: with checkpointing
autocast's cast cache is gone by the time a block is recomputed, so every recompute cast again.
The copies are autograd casts of the fp32 leaves, so gradients still reach the fp32 master
weights that the optimiser updates, exactly as autocast's own casts do.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from peft.tuners.lora.layer import Linear as PeftLoraLinear

_ORIGINAL = "_kiln_peft_forward"
_COPY = "_kiln_compute_copy"
_HOOK = "_kiln_cast_hook"


def _fused_forward(module: PeftLoraLinear, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    adapters = module.active_adapters
    if (args or kwargs or module.disable_adapters or module.merged or len(adapters) != 1
            or adapters[0] not in module.lora_A or adapters[0] in module.lora_variant):
        return getattr(module, _ORIGINAL)(x, *args, **kwargs)  # anything unusual: peft's own path
    name = adapters[0]
    a = module.lora_A[name].weight
    b = module.lora_B[name].weight
    result = module.base_layer(x)
    copy = module.__dict__.get(_COPY)
    if copy is not None and torch.is_grad_enabled():
        a, b = copy
    elif not torch.is_autocast_enabled(x.device.type) and a.dtype != x.dtype:
        a, b = a.to(x.dtype), b.to(x.dtype)
    hidden = F.linear(x, a)
    out = torch.addmm(result.reshape(-1, result.shape[-1]), hidden.reshape(-1, hidden.shape[-1]), b.t(),
                      alpha=module.scaling[name])
    return out.view(result.shape)


def lora_linears(model: torch.nn.Module) -> list[PeftLoraLinear]:
    """The peft LoRA `Linear` modules of `model`."""
    return [m for m in model.modules() if isinstance(m, PeftLoraLinear)]


def _refresh_copies(modules: list[PeftLoraLinear], device_type: str) -> None:
    """Cast each module's LoRA weights to the autocast dtype once for this forward (or drop the copies)."""
    enabled = torch.is_autocast_enabled(device_type) and torch.is_grad_enabled()
    dtype = torch.get_autocast_dtype(device_type) if enabled else None
    for m in modules:
        m.__dict__.pop(_COPY, None)
        adapters = m.active_adapters
        if dtype is None or not m.training or len(adapters) != 1 or adapters[0] not in m.lora_A:
            continue
        a, b = m.lora_A[adapters[0]].weight, m.lora_B[adapters[0]].weight
        if a.dtype != dtype:
            m.__dict__[_COPY] = (a.to(dtype), b.to(dtype))


def apply_fused_lora(model: torch.nn.Module) -> int:
    """Switch every peft LoRA Linear of `model` to the fused forward; returns how many."""
    modules = lora_linears(model)
    for m in modules:
        if not hasattr(m, _ORIGINAL):
            setattr(m, _ORIGINAL, m.forward)
            m.forward = _fused_forward.__get__(m)
    if _HOOK not in model.__dict__:
        def pre_hook(module: torch.nn.Module, args: Any, kwargs: Any) -> None:
            device = next((p.device for p in module.parameters()), torch.device("cpu"))
            _refresh_copies(modules, device.type)

        model.__dict__[_HOOK] = model.register_forward_pre_hook(pre_hook, with_kwargs=True)
    return len(modules)


def remove_fused_lora(model: torch.nn.Module) -> None:
    """Give every LoRA Linear its peft forward back."""
    hook = model.__dict__.pop(_HOOK, None)
    if hook is not None:
        hook.remove()
    for m in lora_linears(model):
        m.__dict__.pop("forward", None)  # the class's (peft's) forward shows through again
        m.__dict__.pop(_ORIGINAL, None)
        m.__dict__.pop(_COPY, None)
