"""CPU benchmark: seconds per training step of Kiln's loop vs a bare ltx-core + peft loop.

Same tiny LTX-2.3 model (written and loaded through the engine's real loader), same LoRA
targets and rank, same batch shape, same optimiser settings. "Ours" is the engine's `Trainer`
(`kiln_engine.train.loop`) running `run()` with a progress event every step written to a real
file handle, as in production; "bare" is the plainest loop a user would write with ltx-core
and peft. The two are measured in alternating rounds so machine noise hits both alike.

    .venv/bin/python bench/engine_step/bench.py [--steps 30] [--rounds 5] [--frames 25 --size 256]
        [--threads 1 --clock cpu]   # CPU time of this process: steadier on a shared, busy machine

Target (PERFORMANCE.md): ours <= 1.05 x bare.
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

import torch
from peft import LoraConfig, get_peft_model

from ltx_core.guidance.perturbations import BatchedPerturbationConfig
from ltx_core.model.transformer.modality import Modality

from kiln_engine.dist import DistInfo
from kiln_engine.encode.encoder import EncodedSample
from kiln_engine.events import EventSink
from kiln_engine.models.checkpoint import ModelLoader, locate_model
from kiln_engine.models.tiny import ensure_tiny_model
from kiln_engine.speed.probe import synthetic_sample
from kiln_engine.train.batch import prepare_item
from kiln_engine.train.loop import TrainConfig, Trainer
from kiln_engine.train.lora import add_lora, target_modules


#: The clock steps are timed with: wall time by default, or this process's CPU time (--clock cpu).
clock = time.perf_counter


def ours(loader: ModelLoader, sample: EncodedSample, steps: int, rank: int, sink_path: Path) -> list[float]:
    """Per-step wall times of the engine's Trainer."""
    torch.manual_seed(0)
    model = add_lora(loader.transformer(), rank, with_audio=True).get_base_model()
    item = prepare_item(sample, loader.device, loader.dtype, with_audio=True)
    config = TrainConfig(steps=steps, learning_rate=2e-4, first_frame_p=0.5, seed=42, checkpoint_interval=0,
                         progress_interval=1)
    with sink_path.open("w") as stream:
        trainer = Trainer(model, [item], config, loader.device, sink_path.parent / "ckpt", EventSink(stream),
                          DistInfo(rank=0, world_size=1, local_rank=0))
        stamps = [clock()]
        trainer.run(on_step=lambda step, loss: stamps.append(clock()))
    # on_step(k) fires right after step k + 1 (the loss is read one step late), so the gaps between
    # calls are one step each, except the last call, which follows the loop's final flush at once.
    gaps = [b - a for a, b in zip(stamps[1:], stamps[2:])]
    return gaps[:-1]


def bare(loader: ModelLoader, sample: EncodedSample, steps: int, rank: int) -> list[float]:
    """Per-step wall times of a plain ltx-core + peft loop (what the ltx-core README would lead to)."""
    torch.manual_seed(0)
    base = loader.transformer()
    for p in base.parameters():
        p.requires_grad_(False)
    model = get_peft_model(base, LoraConfig(r=rank, lora_alpha=rank, target_modules=target_modules(True)))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - 0.9 * s / steps)
    item = prepare_item(sample, loader.device, loader.dtype, with_audio=True)  # same tokens and positions
    x0, a0 = item.video_tokens, item.audio_tokens
    no_ptb = BatchedPerturbationConfig.empty(1)
    times = []
    for _ in range(steps):
        t = clock()
        sigma = torch.rand(1)
        vn, an = torch.randn_like(x0), torch.randn_like(a0)
        video = Modality(latent=(1 - sigma) * x0 + sigma * vn, sigma=sigma, timesteps=sigma.expand(1, x0.shape[1]),
                         positions=item.video_positions, context=item.video_context, context_mask=item.context_mask)
        audio = Modality(latent=(1 - sigma) * a0 + sigma * an, sigma=sigma, timesteps=sigma.expand(1, a0.shape[1]),
                         positions=item.audio_positions, context=item.audio_context, context_mask=item.context_mask)
        vp, ap = model(video=video, audio=audio, perturbations=no_ptb)
        loss = torch.nn.functional.mse_loss(vp, vn - x0) + torch.nn.functional.mse_loss(ap, an - a0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        print(f"{loss.item():.4f}", file=open(os.devnull, "w"))  # the user's per-step log line
        times.append(clock() - t)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30, help="steps per round and loop (the first 3 are warm-up)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=25)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time steps by wall clock or by this process's CPU time (steadier when others share the CPU)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    global clock
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        clock = time.process_time
    if args.frames % 8 != 1 or args.size % 32:
        ap.error("--frames must be 8k+1 and --size a multiple of 32")

    with tempfile.TemporaryDirectory() as tmp:
        loader = ModelLoader(locate_model(ensure_tiny_model(Path(tmp), 0)), torch.device("cpu"), torch.float32)
        sample = synthetic_sample(args.frames, args.size, 0, text_tokens=128)
        warm = 3
        ours_t, bare_t = [], []
        for r in range(args.rounds):
            # Alternate which loop goes first so thermal or cache drift favours neither.
            runs = [("ours", lambda: ours(loader, sample, args.steps + warm, args.rank, Path(tmp) / f"events{r}.jsonl")),
                    ("bare", lambda: bare(loader, sample, args.steps + warm, args.rank))]
            for name, fn in (runs if r % 2 == 0 else runs[::-1]):
                times = fn()[warm:]
                (ours_t if name == "ours" else bare_t).extend(times)
    lf, lh = (args.frames - 1) // 8 + 1, args.size // 32
    o, b = statistics.median(ours_t), statistics.median(bare_t)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, {torch.get_num_threads()} threads",
        "shape": {"frames": args.frames, "size": args.size, "video_tokens": lf * lh * lh, "rank": args.rank},
        "steps_measured": {"ours": len(ours_t), "bare": len(bare_t)},
        "ours_s_per_step": {"median": o, "p10": statistics.quantiles(ours_t, n=10)[0], "p90": statistics.quantiles(ours_t, n=10)[-1]},
        "bare_s_per_step": {"median": b, "p10": statistics.quantiles(bare_t, n=10)[0], "p90": statistics.quantiles(bare_t, n=10)[-1]},
        "clock": args.clock,
        "ratio": o / b,
        "target": 1.05,
    }
    print(f"engine_step on {result['machine']}")
    print(f"tiny LTX-2.3 (2 layers), {args.frames} frames {args.size}x{args.size} -> {lf * lh * lh} video tokens, audio, rank {args.rank}, "
          f"{len(ours_t)} steps each over {args.rounds} alternating rounds, {args.clock} clock\n")
    print("| loop | median s/step | p10 | p90 |")
    print("|---|---|---|---|")
    for name, key in (("ours (kiln_engine Trainer)", "ours_s_per_step"), ("bare ltx-core + peft", "bare_s_per_step")):
        r = result[key]
        print(f"| {name} | {r['median']:.4f} | {r['p10']:.4f} | {r['p90']:.4f} |")
    verdict = "meets" if result["ratio"] <= 1.05 else "MISSES"
    print(f"\nratio ours / bare = {result['ratio']:.3f} ({verdict} the <= 1.05 target)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
