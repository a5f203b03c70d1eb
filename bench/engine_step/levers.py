"""CPU proxy for issue 7's speed levers: ops (kernel-launch proxy) and seconds per training step.

Every row is one forward + backward of the engine's training step (`kiln_engine.speed.probe`:
the engine's loader, peft LoRA, prepared item and loss) on the tiny LTX-2.3 model on CPU,
with a bf16 frozen base, fp32 LoRA weights, bf16 autocast and every block checkpointed, as
the engine runs on CUDA; one row per
lever, then all levers together. Columns: aten ops per step from the PyTorch profiler (all
calls, and leaf calls that compute, i.e. the ones that would each launch a kernel on a GPU;
views and allocations excluded), aten::_to_copy calls (dtype casts that copy), median seconds per step, and the largest relative difference
of the loss and LoRA gradients from the plain row (the same draws, same weights).

    .venv/bin/python bench/engine_step/levers.py [--frames 25 --size 128] [--steps 5] [--compile inductor|aot_eager|off]

The tiny model has 2 blocks of 48; its per-block op counts are what the 22B model repeats 48
times. Timings on CPU say nothing about GPU time: the GPU measurements are still to be made.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import torch._dynamo
from torch.profiler import ProfilerActivity, profile

from kiln_engine.speed.checkpointing import apply_selective_checkpointing
from kiln_engine.speed.compile import compile_blocks
from kiln_engine.speed.fused_lora import apply_fused_lora, lora_linears
from kiln_engine.speed.probe import Probe, make_probe


#: aten ops that only make views or allocate: they launch no kernel on a GPU.
NO_KERNEL = {
    "aten::view", "aten::reshape", "aten::_reshape_alias", "aten::as_strided", "aten::t", "aten::transpose",
    "aten::permute", "aten::expand", "aten::unsqueeze", "aten::squeeze", "aten::slice", "aten::select",
    "aten::empty", "aten::empty_like", "aten::empty_strided", "aten::detach", "aten::alias", "aten::unbind",
    "aten::split", "aten::split_with_sizes", "aten::chunk", "aten::narrow", "aten::_unsafe_view",
    "aten::resolve_conj", "aten::resolve_neg", "aten::lift_fresh", "aten::result_type", "aten::numpy_T",
    "aten::view_as", "aten::expand_as", "aten::flatten", "aten::unflatten", "aten::contiguous", "aten::to",
    "aten::type_as", "aten::_has_compatible_shallow_copy_type", "aten::size", "aten::stride", "aten::is_nonzero",
    "aten::item", "aten::_local_scalar_dense", "aten::movedim", "aten::set_", "aten::detach_",
}


def count_ops(probe: Probe, dtype: torch.dtype | None) -> dict[str, int]:
    """Profile one step: aten calls, leaf aten calls (kernel-launch proxy) and dtype casts."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        probe.step(dtype)
    events = [e for e in prof.events() if e.name.startswith("aten::")]
    leaves = [e for e in events if not any(c.name.startswith("aten::") for c in e.cpu_children)]
    kernels = [e for e in leaves if e.name not in NO_KERNEL]
    casts = [e for e in events if e.name == "aten::_to_copy"]
    return {"aten_ops": len(events), "leaf_ops": len(kernels), "casts": len(casts)}


def max_rel_diff(a: tuple[torch.Tensor, dict[str, torch.Tensor]], b: tuple[torch.Tensor, dict[str, torch.Tensor]]) -> float:
    """Largest relative difference over the loss and every LoRA gradient (by norm)."""
    worst = float((a[0] - b[0]).abs() / b[0].abs().clamp_min(1e-12))
    for k in b[1]:
        worst = max(worst, float((a[1][k] - b[1][k]).norm() / b[1][k].norm().clamp_min(1e-12)))
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=25)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per row (after 2 warm-up steps)")
    ap.add_argument("--compile", default="inductor", choices=("inductor", "aot_eager", "off"))
    ap.add_argument("--fp32", action="store_true", help="no bf16 autocast (the engine's CPU setting)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    dtype = None if args.fp32 else torch.bfloat16

    rows: list[tuple[str, Callable[[Probe], None]]] = [
        ("plain (peft, checkpoint all)", lambda p: p.model.set_gradient_checkpointing(True)),
        ("lora_impl=fused", lambda p: (p.model.set_gradient_checkpointing(True), apply_fused_lora(p.model))),
        ("checkpoint=every_k (k=2)", lambda p: apply_selective_checkpointing(p.model, "every_k", 2)),
        ("checkpoint=none", lambda p: p.model.set_gradient_checkpointing(False)),
    ]
    if args.compile != "off":
        rows.append((f"compile={args.compile}", lambda p: (p.model.set_gradient_checkpointing(True),
                                                          compile_blocks(p.model, args.compile))))
        rows.append((f"fused + every_k + compile={args.compile}",
                     lambda p: (apply_fused_lora(p.model), apply_selective_checkpointing(p.model, "every_k", 2),
                                compile_blocks(p.model, args.compile))))
    rows.append(("fused + every_k", lambda p: (apply_fused_lora(p.model), apply_selective_checkpointing(p.model, "every_k", 2))))

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for name, setup in rows:
            torch._dynamo.reset()
            probe = make_probe(Path(tmp), frames=args.frames, size=args.size, rank=args.rank,
                               dtype=torch.float32 if dtype is None else dtype)
            setup(probe)
            t0 = time.perf_counter()
            out = probe.step(dtype)
            first = time.perf_counter() - t0
            probe.step(dtype)
            times = []
            for _ in range(args.steps):
                t = time.perf_counter()
                probe.step(dtype)
                times.append(time.perf_counter() - t)
            ops = count_ops(probe, dtype)
            if reference is None:
                reference = out
            results.append({"lever": name, **ops, "s_per_step": statistics.median(times), "first_step_s": first,
                            "max_rel_diff": max_rel_diff(out, reference), "lora_projections": len(lora_linears(probe.model))})
            print(f"  measured {name}", file=sys.stderr)

    base = results[0]
    print(f"engine speed levers (CPU proxy) on {platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"tiny LTX-2.3 (2 blocks, {base['lora_projections']} LoRA projections, rank {args.rank}), {args.frames} frames "
          f"{args.size}x{args.size}, audio, {'fp32' if dtype is None else 'bf16 autocast'}; forward + backward; "
          f"median of {args.steps} steps\n")
    print("| lever | aten ops/step | leaf ops (launch proxy) | vs plain | casts (_to_copy) | s/step (CPU) | first step s | max rel. diff vs plain |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['lever']} | {r['aten_ops']} | {r['leaf_ops']} | {r['leaf_ops'] / base['leaf_ops']:.2f}x | {r['casts']} | "
              f"{r['s_per_step']:.3f} | {r['first_step_s']:.1f} | {r['max_rel_diff']:.1e} |")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, "rows": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
