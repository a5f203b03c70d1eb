"""speed.lora_impl = "fused": same loss and LoRA gradients as peft's forward, same parameter names."""
from __future__ import annotations

from pathlib import Path

import torch

from kiln_engine.speed.fused_lora import apply_fused_lora, lora_linears, remove_fused_lora
from kiln_engine.speed.probe import make_probe
from kiln_engine.train.lora import lora_state_dict


def _close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], rtol: float, atol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=rtol, atol=atol, msg=lambda m, k=k: f"{k}: {m}")


def test_fused_lora_matches_peft_fp32(engine_cache: Path) -> None:
    probe = make_probe(engine_cache, frames=9, size=64)
    plain_loss, plain_grads = probe.step()
    keys_before = sorted(lora_state_dict(probe.model))
    n = apply_fused_lora(probe.model)
    assert n == len(lora_linears(probe.model)) == 2 * 6 * 4  # 2 blocks x 6 attentions x q,k,v,out
    fused_loss, fused_grads = probe.step()
    assert sorted(lora_state_dict(probe.model)) == keys_before  # checkpoints and export see the same names
    torch.testing.assert_close(fused_loss, plain_loss, rtol=1e-5, atol=1e-6)
    _close(fused_grads, plain_grads, rtol=1e-4, atol=1e-6)
    assert any(g.abs().max() > 0 for k, g in fused_grads.items() if "lora_A" in k)  # the comparison sees A too
    remove_fused_lora(probe.model)
    back_loss, _ = probe.step()
    torch.testing.assert_close(back_loss, plain_loss, rtol=0, atol=0)


def test_fused_lora_matches_peft_under_bf16_autocast(engine_cache: Path) -> None:
    probe = make_probe(engine_cache, frames=9, size=64)
    plain_loss, plain_grads = probe.step(autocast=torch.bfloat16)
    apply_fused_lora(probe.model)
    fused_loss, fused_grads = probe.step(autocast=torch.bfloat16)
    # the weights were cast once for the whole forward (and its checkpoint recomputes), not per call
    assert all(m.__dict__["_kiln_compute_copy"][0].dtype == torch.bfloat16 for m in lora_linears(probe.model))
    # bf16 rounding differs in where the LoRA product is added; within bf16's precision.
    torch.testing.assert_close(fused_loss, plain_loss, rtol=2e-2, atol=1e-3)
    for k in plain_grads:
        denom = plain_grads[k].norm().clamp_min(1e-8)
        assert (fused_grads[k] - plain_grads[k]).norm() / denom < 5e-2, k


def test_fused_lora_falls_back_when_adapters_disabled(engine_cache: Path) -> None:
    probe = make_probe(engine_cache, frames=9, size=64)
    apply_fused_lora(probe.model)
    layer = lora_linears(probe.model)[0]
    x = torch.randn(1, 5, layer.in_features)
    with torch.no_grad():
        with_lora = layer(x)
        layer.enable_adapters(False)
        without = layer(x)
        layer.enable_adapters(True)
        base = layer.base_layer(x)
    torch.testing.assert_close(without, base)
    assert not torch.allclose(with_lora, base)
