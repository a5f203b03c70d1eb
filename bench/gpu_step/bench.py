"""GPU benchmark: one LoRA training step of the full-size LTX-2.3 transformer, random weights, no download.

Builds the 22B-class transformer from ltx-core's own configurator with the LTX-2.3 settings of
PERFORMANCE.md (48 layers, 32 x 128 video heads, 32 x 64 audio heads, gated attention,
cross-attention AdaLN, split RoPE in float64), fills it with random bf16 weights on the
device, and times Kiln's training loop (`kiln_engine.train.loop.Trainer`: peft LoRA on
to_q/to_k/to_v/to_out.0, fp32 LoRA under bf16 autocast, gradient checkpointing, AdamW,
clipping, rectified-flow loss on video + audio) on the default job shape: 89 frames at
768x768 (12 x 24 x 24 = 6,912 video tokens), 89 audio tokens, 1,024 text tokens.

Prints seconds per step, peak memory, the forward FLOPs it counted (torch.utils.flop_counter,
under no_grad) and MFU = 2 x forward FLOPs / step time / peak (the frozen-base LoRA step:
forward + input gradients; the convention of PERFORMANCE.md, so numbers compare).

    python bench/gpu_step/bench.py                       # default job shape on cuda
    python bench/gpu_step/bench.py --frames 121 --size 1024
    python bench/gpu_step/bench.py --tiny --device cpu   # structure check: 2 small layers, tiny shape
    python bench/gpu_step/bench.py --loop bare           # the plain ltx-core + peft loop instead
    python bench/gpu_step/bench.py --count-flops-only    # full-size model on the meta device: FLOPs, no GPU

Needs torch (with CUDA) plus the wheels that bench/gpu_step/make_wheels.sh downloads; see
bench/README.md.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "engine"))

from ltx_core.guidance.perturbations import BatchedPerturbationConfig  # noqa: E402
from ltx_core.model.transformer import LTXModelConfigurator  # noqa: E402
from ltx_core.model.transformer.modality import Modality  # noqa: E402

#: LTX-2.3 transformer settings (PERFORMANCE.md; the release header's values: split RoPE in float64,
#: gated attention, cross-attention AdaLN, caption projection before the connector).
LTX23_TRANSFORMER = {
    "dropout": 0.0, "attention_bias": True, "num_vector_embeds": None, "activation_fn": "gelu-approximate",
    "num_embeds_ada_norm": 1000, "use_linear_projection": False, "only_cross_attention": False,
    "cross_attention_norm": True, "double_self_attention": False, "upcast_attention": False,
    "standardization_norm": "rms_norm", "norm_elementwise_affine": False, "qk_norm": "rms_norm",
    "positional_embedding_type": "rope", "use_audio_video_cross_attention": True, "share_ff": False,
    "av_cross_ada_norm": True, "use_middle_indices_grid": True,
    "num_attention_heads": 32, "attention_head_dim": 128, "in_channels": 128, "out_channels": 128, "num_layers": 48,
    "cross_attention_dim": 4096, "audio_num_attention_heads": 32, "audio_attention_head_dim": 64,
    "audio_in_channels": 128, "audio_out_channels": 128, "audio_cross_attention_dim": 2048,
    "positional_embedding_theta": 10000.0, "positional_embedding_max_pos": [20, 2048, 2048],
    "audio_positional_embedding_max_pos": [20], "timestep_scale_multiplier": 1000, "av_ca_timestep_scale_multiplier": 1000,
    "rope_type": "split", "frequencies_precision": "float64", "apply_gated_attention": True,
    "cross_attention_adaln": True, "caption_proj_before_connector": True, "attention_type": "default",
}

#: For `--tiny`: the same classes at test size (the engine's tiny model sizes).
TINY_OVERRIDES = {
    "num_attention_heads": 2, "attention_head_dim": 16, "in_channels": 16, "out_channels": 16, "num_layers": 2,
    "cross_attention_dim": 32, "audio_num_attention_heads": 2, "audio_attention_head_dim": 8,
    "audio_in_channels": 32, "audio_out_channels": 32, "audio_cross_attention_dim": 16,
}

#: Dense bf16 peak TFLOP/s by device name fragment (datasheet values, no sparsity).
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "GH200": 989.0, "A100": 312.0, "L40S": 362.0, "A6000": 155.0, "4090": 165.0}


def build_transformer(config: dict, device: torch.device, dtype: torch.dtype, seed: int) -> torch.nn.Module:
    """The transformer from ltx-core's configurator, allocated directly on `device` with random weights."""
    with torch.device("meta"):
        model = LTXModelConfigurator.from_config({"transformer": config})
    model = model.to(dtype=dtype).to_empty(device=device)  # no host copy of 19 B parameters
    gen = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        # Small values everywhere (scale-shift tables, gates, registers), then fan-in scaled Linear weights,
        # so activations stay finite through 48 blocks; the values do not change the work done.
        for _, p in model.named_parameters():
            p.normal_(0.0, 0.02, generator=gen)
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.normal_(0.0, 1.0 / math.sqrt(module.in_features), generator=gen)
                if module.bias is not None:
                    module.bias.zero_()
        for _, buf in model.named_buffers():
            if buf.is_floating_point():
                buf.zero_()
    return model


def job_tensors(cfg: dict, frames: int, width: int, height: int, text_tokens: int, fps: float, seed: int):
    """A synthetic encoded clip of the job shape, as the encode stage would cache it."""
    from kiln_engine.encode.encoder import EncodedSample

    g = torch.Generator().manual_seed(seed)
    lf, lh, lw = (frames - 1) // 8 + 1, height // 32, width // 32
    audio_channels = 8 if cfg["audio_in_channels"] == 128 else 2
    audio_t = round(frames / fps * 25)
    return EncodedSample(
        id="bench", fps=fps,
        video_latent=torch.randn(cfg["in_channels"], lf, lh, lw, generator=g),
        video_context=torch.randn(text_tokens, cfg["cross_attention_dim"], generator=g),
        audio_context=torch.randn(text_tokens, cfg["audio_cross_attention_dim"], generator=g),
        context_mask=torch.ones(text_tokens, dtype=torch.int64),
        audio_latent=torch.randn(audio_channels, audio_t, cfg["audio_in_channels"] // audio_channels, generator=g),
    )


def forward_flops(model: torch.nn.Module, item, autocast) -> float:
    """FLOPs of one forward pass at a mid-range sigma (no_grad: a checkpointed backward would double-count)."""
    from torch.utils.flop_counter import FlopCounterMode

    video, audio = _modalities(item, torch.tensor([0.5], device=item.video_tokens.device))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), autocast, counter:
        model(video=video, audio=audio, perturbations=BatchedPerturbationConfig.empty(1))
    return float(counter.get_total_flops())


def _modalities(item, sigma: torch.Tensor) -> tuple[Modality, Modality]:
    x0, a0 = item.video_tokens, item.audio_tokens
    s = sigma.to(x0.dtype).view(-1, 1, 1)
    video = Modality(latent=(1 - s) * x0 + s * torch.randn_like(x0), sigma=sigma, timesteps=sigma.view(-1, 1).expand(1, x0.shape[1]),
                     positions=item.video_positions, context=item.video_context, context_mask=item.context_mask)
    audio = Modality(latent=(1 - s) * a0 + s * torch.randn_like(a0), sigma=sigma, timesteps=sigma.view(-1, 1).expand(1, a0.shape[1]),
                     positions=item.audio_positions, context=item.audio_context, context_mask=item.context_mask)
    return video, audio


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_ours(model, item, args, device, autocast_dtype) -> list[float]:
    """Per-step times of the engine's Trainer (progress event every step, to a real file)."""
    from kiln_engine.dist import DistInfo
    from kiln_engine.events import EventSink
    from kiln_engine.train.loop import TrainConfig, Trainer

    total = args.warmup + args.steps
    config = TrainConfig(steps=total, learning_rate=2e-4, first_frame_p=0.5, seed=42, checkpoint_interval=0, progress_interval=1)
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "events.jsonl", "w") as stream:
        trainer = Trainer(model, [item], config, device, Path(tmp) / "ckpt", EventSink(stream),
                          DistInfo(rank=0, world_size=1, local_rank=0), autocast_dtype=autocast_dtype)

        def on_step(step: int, loss: float) -> None:
            sync(device)
            stamps.append(time.perf_counter())

        trainer.run(on_step=on_step)
    # on_step(k) runs after step k + 1 is queued and its loss read, so consecutive calls are one
    # step apart, except the last, which follows the loop's final flush immediately.
    gaps = [b - a for a, b in zip(stamps, stamps[1:])][:-1]
    return gaps[max(args.warmup - 1, 0):]


def time_bare(model, item, args, device, autocast_dtype) -> list[float]:
    """Per-step times of the plainest ltx-core + peft loop."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.01)
    no_ptb = BatchedPerturbationConfig.empty(1)
    autocast = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    times = []
    for i in range(args.warmup + args.steps):
        sync(device)
        t = time.perf_counter()
        sigma = torch.rand(1, device=device)
        video, audio = _modalities(item, sigma)
        with autocast:
            vp, ap = model(video=video, audio=audio, perturbations=no_ptb)
        loss = (vp.float() - video.latent.float()).square().mean() + (ap.float() - audio.latent.float()).square().mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        sync(device)
        if i >= args.warmup:
            times.append(time.perf_counter() - t)
    return times


def peak_tflops(device: torch.device, override: float | None) -> tuple[float | None, str]:
    if override:
        return override, "given"
    if device.type != "cuda":
        return None, "cpu"
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_TFLOPS.items():
        if key in name:
            return value, name
    return None, name


def count_flops_only(args: argparse.Namespace) -> int:
    """Forward FLOPs of the full-size (or --tiny) model for the job shape, counted on the meta device."""
    from kiln_engine.train.batch import prepare_item

    cfg = copy.deepcopy(LTX23_TRANSFORMER)
    if args.tiny:
        cfg.update(TINY_OVERRIDES)
    width, height = args.width or args.size, args.height or args.size
    with torch.device("meta"):
        model = LTXModelConfigurator.from_config({"transformer": cfg}).to(torch.bfloat16)
    item = prepare_item(job_tensors(cfg, args.frames, width, height, args.text_tokens, args.fps, seed=0),
                        torch.device("cpu"), torch.bfloat16, with_audio=True).to(torch.device("meta"))
    flops = forward_flops(model, item, contextlib.nullcontext())
    n = sum(p.numel() for p in model.parameters())
    lf, lh, lw = (args.frames - 1) // 8 + 1, height // 32, width // 32
    print(f"{n / 1e9:.2f} B parameters; {args.frames} frames {width}x{height} -> {lf * lh * lw:,} video tokens, "
          f"{item.audio_tokens.shape[1]} audio tokens, {args.text_tokens} text tokens")
    print(f"forward: {flops / 1e12:.1f} TFLOP; a LoRA step counts 2 x that = {2 * flops / 1e12:.1f} TFLOP "
          f"(0.9 s/step on a 989 TFLOP/s H100 would be {2 * flops / 0.9 / 989e12:.0%} MFU)")
    if args.json:
        args.json.write_text(json.dumps({"parameters": n, "forward_tflop": flops / 1e12, "video_tokens": lf * lh * lw}, indent=2))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--frames", type=int, default=89)
    ap.add_argument("--size", type=int, default=768, help="width = height (overridden by --width/--height)")
    ap.add_argument("--width", type=int)
    ap.add_argument("--height", type=int)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--text-tokens", type=int, default=1024)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10, help="measured steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--loop", choices=("ours", "bare"), default="ours")
    ap.add_argument("--no-checkpointing", action="store_true", help="disable gradient checkpointing")
    ap.add_argument("--tiny", action="store_true", help="2 small layers and a tiny shape: a structure check that runs on CPU")
    ap.add_argument("--peak-tflops", type=float, help="dense bf16 peak of the device, when not detected")
    ap.add_argument("--count-flops-only", action="store_true",
                    help="build the full-size model on the meta device and count forward FLOPs (no GPU, no memory)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.count_flops_only:
        return count_flops_only(args)

    device = torch.device(args.device)
    cfg = copy.deepcopy(LTX23_TRANSFORMER)
    if args.tiny:
        cfg.update(TINY_OVERRIDES)
        cfg["attention_type"] = "pytorch"
        if args.frames == 89 and args.size == 768:
            args.frames, args.size, args.text_tokens = 17, 128, 128
    width, height = args.width or args.size, args.height or args.size
    if args.frames % 8 != 1 or width % 32 or height % 32:
        ap.error("frames must be 8k+1 and width/height multiples of 32")
    on_gpu = device.type == "cuda"
    dtype = torch.bfloat16 if on_gpu else torch.float32
    autocast_dtype = torch.bfloat16 if on_gpu else None
    torch.manual_seed(0)

    from kiln_engine.train.batch import prepare_item
    from kiln_engine.train.lora import add_lora

    t0 = time.perf_counter()
    base = build_transformer(cfg, device, dtype, seed=0)
    n_params = sum(p.numel() for p in base.parameters())
    sample = job_tensors(cfg, args.frames, width, height, args.text_tokens, args.fps, seed=0)
    item = prepare_item(sample, device, dtype, with_audio=True)
    autocast = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    flops = forward_flops(base, item, autocast)
    peft_model = add_lora(base, args.rank, with_audio=True)
    model = peft_model.get_base_model()
    model.set_gradient_checkpointing(not args.no_checkpointing)
    lora_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    build_s = time.perf_counter() - t0
    if on_gpu:
        torch.cuda.reset_peak_memory_stats(device)
    timer = time_ours if args.loop == "ours" else time_bare
    times = timer(model, item, args, device, autocast_dtype)
    peak_gib = torch.cuda.max_memory_allocated(device) / 2**30 if on_gpu else None

    lf, lh, lw = (args.frames - 1) // 8 + 1, height // 32, width // 32
    median = statistics.median(times)
    peak, device_name = peak_tflops(device, args.peak_tflops)
    mfu = (2 * flops / median / (peak * 1e12)) if peak else None
    result = {
        "device": device_name if on_gpu else f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cpus)",
        "torch": torch.__version__, "loop": args.loop, "tiny": args.tiny,
        "parameters": n_params, "lora_parameters": lora_params, "rank": args.rank,
        "shape": {"frames": args.frames, "width": width, "height": height, "video_tokens": lf * lh * lw,
                  "audio_tokens": item.audio_tokens.shape[1], "text_tokens": args.text_tokens},
        "gradient_checkpointing": not args.no_checkpointing,
        "seconds_per_step": {"median": median, "min": min(times), "max": max(times), "steps": len(times)},
        "forward_tflop": flops / 1e12, "peak_tflops": peak, "mfu": mfu, "peak_memory_gib": peak_gib,
        "build_seconds": build_s,
    }
    print(f"gpu_step: {result['device']}, torch {torch.__version__}, loop {args.loop}"
          + (" (TINY structure check, not the real model)" if args.tiny else ""))
    print(f"transformer {n_params / 1e9:.2f} B parameters, LoRA rank {args.rank}: {lora_params / 1e6:.1f} M trainable; "
          f"built in {build_s:.1f} s\n")
    print("| job shape | video tokens | audio tokens | s/step (median) | forward TFLOP | MFU | peak GiB |")
    print("|---|---|---|---|---|---|---|")
    mfu_s = f"{mfu:.0%}" if mfu is not None else "n/a"
    mem_s = f"{peak_gib:.1f}" if peak_gib is not None else "n/a"
    flops_s = f"{flops / 1e12:.1f}" if flops >= 1e11 else f"{flops / 1e9:.2f} GFLOP"
    print(f"| {args.frames}, {width}x{height} | {lf * lh * lw:,} | {item.audio_tokens.shape[1]} | {median:.3f} "
          f"| {flops_s} | {mfu_s} | {mem_s} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
