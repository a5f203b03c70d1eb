"""One run, phase by phase: encoding -> training -> validating -> exporting -> done."""
from __future__ import annotations

import gc
import importlib
import signal
from pathlib import Path

import torch

from .context import RunContext
from .dist import DistInfo, device_for, init_distributed
from .encode.cache import TensorCache
from .encode.encoder import encode_dataset
from .errors import BadDataset, BadSpec, ModelNotFound
from .events import EventSink
from .manifest import read_manifest
from .models.checkpoint import ModelFiles, ModelLoader, locate_model
from .models.tiny import TINY_VERSION, ensure_tiny_model
from .spec import Spec
from .train.batch import prepare_item
from .train.checkpointing import LORA_FILE
from .train.lora import add_lora, lora_state_dict
from .train.loop import StopFlag, TrainConfig, Trainer


def model_files(spec: Spec) -> tuple[ModelFiles, str]:
    """The model folder of the spec (writing the tiny one if needed) and its cache identity."""
    if spec.model.kind == "tiny":
        folder = ensure_tiny_model(spec.cache_dir, spec.model.seed)
        return locate_model(folder), f"tiny-v{TINY_VERSION}-seed{spec.model.seed}"
    files = locate_model(spec.model.path or "")
    stat = files.ltx_file.stat()
    return files, f"{files.ltx_file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{files.gemma_root.resolve()}"


def resolve_audio(spec: Spec, samples: list, files: ModelFiles) -> bool:
    """Whether this run trains audio: as requested, or (null) when every sample has audio."""
    want = spec.with_audio
    has_all = all(s.audio is not None for s in samples)
    if want is None:
        return has_all
    if want and not has_all:
        missing = next(s.id for s in samples if s.audio is None)
        raise BadDataset(f"with_audio is true but sample {missing} has no audio file; give every clip a .wav or set with_audio to false")
    return bool(want)


def _device(spec: Spec, dist: DistInfo) -> torch.device:
    device = device_for(spec.device, dist)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadSpec(f"spec field 'device' is {spec.device!r} but this machine has no CUDA device; use \"cpu\"")
    return device


def run(spec: Spec, events: EventSink, stop: StopFlag, dist: DistInfo | None = None) -> RunContext:
    """Run the whole job; raises an `EngineError` subclass on any failure."""
    dist = dist or init_distributed(spec.device)
    device = _device(spec, dist)
    on_gpu = device.type == "cuda"
    dtype = torch.bfloat16 if on_gpu else torch.float32
    torch.manual_seed(spec.seed)

    samples = read_manifest(spec.manifest)
    files, model_id = model_files(spec)
    with_audio = resolve_audio(spec, samples, files)
    loader = ModelLoader(files, device, dtype, spec.quantization)

    events.phase("encoding")
    cache = TensorCache(spec.cache_dir)

    def encoding_progress(done: int, total: int) -> None:
        events.progress("encoding", done, total)

    if dist.enabled and not dist.is_main:
        torch.distributed.barrier()
    encoded, stats = encode_dataset(samples, loader, cache, model_id, with_audio, encoding_progress)
    if dist.enabled and dist.is_main:
        torch.distributed.barrier()
    events.log(f"encoded {len(encoded)} samples; cache hits {sum(stats.hits.values())}, misses {sum(stats.misses.values())}")

    events.phase("training")
    base = loader.transformer()
    gc.collect()
    torch.manual_seed(spec.seed)  # identical LoRA init on every rank and on resume
    peft_model = add_lora(base, spec.rank, with_audio)
    model = peft_model.get_base_model()
    checkpointing = spec.gradient_checkpointing if spec.gradient_checkpointing is not None else on_gpu
    model.set_gradient_checkpointing(bool(checkpointing))
    items = [prepare_item(e, device, dtype, with_audio) for e in encoded]
    train_module: torch.nn.Module = model
    if dist.enabled:
        train_module = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if on_gpu else None)
    config = TrainConfig(
        steps=spec.steps, learning_rate=spec.learning_rate, first_frame_p=spec.first_frame_p, seed=spec.seed,
        checkpoint_interval=spec.checkpoint_interval, progress_interval=spec.progress_interval,
        warmup_steps=spec.warmup_steps, max_grad_norm=spec.max_grad_norm, weight_decay=spec.weight_decay,
        timestep_sampling=spec.timestep_sampling,
        fingerprint={"rank": spec.rank, "with_audio": with_audio, "model": model_id, "learning_rate": spec.learning_rate,
                     "steps": spec.steps, "world_size": dist.world_size, "seed": spec.seed},
    )
    trainer = Trainer(train_module, items, config, device, spec.output_dir / "checkpoints", events, dist, stop,
                      autocast_dtype=torch.bfloat16 if on_gpu else None)
    if spec.resume_from is not None:
        trainer.resume(spec.resume_from)
        events.log(f"resumed from {spec.resume_from} at step {trainer.step}")
    result = trainer.run()
    final = result.checkpoint
    if dist.is_main and (final is None or not final.name.endswith(f"{result.step:06d}")):
        final = trainer.save()
    model.eval()
    del trainer, items
    gc.collect()

    ctx = RunContext(spec=spec, files=files, loader=loader, model=model, peft_model=peft_model,
                     lora={k: v.detach().float() for k, v in lora_state_dict(model).items()}, with_audio=with_audio,
                     step=result.step, device=device, dtype=dtype, dist=dist, events=events, samples=encoded,
                     final_checkpoint=final)
    if dist.is_main:
        _validate(ctx)
        _export(ctx)
    if dist.enabled:
        torch.distributed.barrier()
    return ctx


def _stage(name: str):  # noqa: ANN202 - a module or None
    try:
        return importlib.import_module(f"kiln_engine.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"kiln_engine.{name}"):
            return None
        raise


def _validate(ctx: RunContext) -> None:
    if ctx.spec.skip_validation or not ctx.spec.request["validation"]:
        return
    ctx.events.phase("validating")
    module = _stage("validation")
    if module is None or not hasattr(module, "run"):
        ctx.events.log("validation sampling is not installed in this engine build; skipping validation", level="warning")
        return
    module.run(ctx)


def _export(ctx: RunContext) -> None:
    ctx.events.phase("exporting")
    module = _stage("export")
    if module is not None and hasattr(module, "run"):
        module.run(ctx)
        return
    # Without the export stage, the final checkpoint's LoRA (ComfyUI key layout, alpha = rank) is the artifact.
    ctx.events.log("export stage not installed; the LoRA artifact is the final checkpoint's weights", level="warning")
    assert ctx.final_checkpoint is not None
    ctx.events.artifact("lora", str(ctx.final_checkpoint / LORA_FILE))


def install_signal_handlers(stop: StopFlag) -> None:
    """SIGTERM / SIGINT: finish the step, save a checkpoint, exit with `Interrupted`'s code."""
    signal.signal(signal.SIGTERM, stop.request)
    signal.signal(signal.SIGINT, stop.request)


__all__ = ["run", "install_signal_handlers", "model_files", "resolve_audio", "ModelNotFound", "Path"]
