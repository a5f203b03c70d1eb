"""One run, phase by phase: encoding -> training -> validating -> exporting -> done."""
from __future__ import annotations

import gc
import importlib
import signal

import torch

from .context import RunContext
from .dist import DistInfo, device_for, init_distributed
from .encode.cache import TensorCache
from .encode.encoder import encode_dataset
from .errors import BadDataset, BadSpec, Interrupted
from .events import EventSink
from .manifest import read_manifest
from .models.checkpoint import ModelFiles, ModelLoader, locate_model
from .models.tiny import TINY_VERSION, ensure_tiny_model
from .spec import Spec
from .speed import apply as speed
from .train.batch import place_items, prepare_item
from .train.checkpointing import LORA_FILE
from .train.fingerprint import build_fingerprint
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
    for folder, field in ((spec.output_dir, "output_dir"), (spec.cache_dir, "cache_dir")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadSpec(f"spec field '{field}' ({folder}) cannot be created: {exc.strerror}") from None
    files, model_id = model_files(spec)
    with_audio = resolve_audio(spec, samples, files)
    loader = ModelLoader(files, device, dtype, spec.quantization)
    validation = _validation_module() if _wants_validation(spec) and dist.is_main else None
    if validation is not None:
        validation.check_validation_request(spec.request, spec.manifest.parent)  # bad image_url fails before training
    prompts: dict[str, object] = {}

    def encode_prompts(text_encoder: object, processor: object) -> None:
        assert validation is not None
        prompts["list"], prompts["negative"] = validation.encode_validation_prompts(
            text_encoder, processor, spec.request, spec.manifest.parent)

    events.phase("encoding")
    cache = TensorCache(spec.cache_dir)

    def encoding_progress(done: int, total: int) -> None:
        events.progress("encoding", done, total)
        if stop.requested:
            raise Interrupted(f"stopped by SIGTERM while encoding ({done} of {total} done); encoded clips are cached, "
                              "so a new run skips them")

    if dist.enabled and not dist.is_main:
        torch.distributed.barrier()
    encoded, stats = encode_dataset(samples, loader, cache, model_id, with_audio, encoding_progress,
                                    text_hook=encode_prompts if validation is not None else None)
    if dist.enabled and dist.is_main:
        torch.distributed.barrier()
    events.log(f"encoded {len(encoded)} samples; cache hits {sum(stats.hits.values())}, misses {sum(stats.misses.values())}")

    events.phase("training")
    planned = _plan_memory(spec, files, loader, encoded, with_audio, device, events) if on_gpu else None
    base = loader.transformer()
    gc.collect()
    torch.manual_seed(spec.seed)  # identical LoRA init on every rank and on resume
    peft_model = add_lora(base, spec.rank, with_audio)
    model = peft_model.get_base_model()
    checkpointing = spec.gradient_checkpointing if spec.gradient_checkpointing is not None else on_gpu
    model.set_gradient_checkpointing(bool(checkpointing))
    if not spec.speed.is_plain() or planned is not None:
        for line in speed.install(model, spec.speed, speed.checkpoint_mode(spec.speed, bool(checkpointing), planned)):
            events.log(line)
    # Prepared on the host, then placed: on the GPU when the dataset fits, else pinned host memory.
    items, resident = place_items([prepare_item(e, torch.device("cpu"), dtype, with_audio) for e in encoded], device)
    if not resident:
        events.log(f"dataset of {len(items)} samples kept in host memory; each step copies its sample to {device}")
    train_module: torch.nn.Module = model
    if dist.enabled:
        train_module = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if on_gpu else None)
    config = TrainConfig(
        steps=spec.steps, learning_rate=spec.learning_rate, first_frame_p=spec.first_frame_p, seed=spec.seed,
        checkpoint_interval=spec.checkpoint_interval, progress_interval=spec.progress_interval,
        warmup_steps=spec.warmup_steps, max_grad_norm=spec.max_grad_norm, weight_decay=spec.weight_decay,
        timestep_sampling=spec.timestep_sampling,
        fingerprint=build_fingerprint(
            rank=spec.rank, with_audio=with_audio, model=model_id, learning_rate=spec.learning_rate, steps=spec.steps,
            world_size=dist.world_size, seed=spec.seed, quantization=_built_quantization(spec, loader),
            first_frame_p=spec.first_frame_p, warmup_steps=spec.warmup_steps, max_grad_norm=spec.max_grad_norm,
            weight_decay=spec.weight_decay, timestep_sampling=spec.timestep_sampling),
    )
    trainer = Trainer(train_module, items, config, device, spec.output_dir / "checkpoints", events, dist, stop,
                      autocast_dtype=torch.bfloat16 if on_gpu else None)
    if spec.resume_from is not None:
        trainer.resume(spec.resume_from)
        events.log(f"resumed from {spec.resume_from} at step {trainer.step}")
    result = trainer.run()
    final = result.checkpoint
    if final is None or not final.name.endswith(f"{result.step:06d}"):  # every rank: saving gathers RNG states
        final = trainer.save()
    model.eval()
    speed.uninstall(model)  # validation and export run ltx-core's and peft's own forwards
    del trainer, items
    gc.collect()

    ctx = RunContext(spec=spec, files=files, loader=loader, model=model, peft_model=peft_model,
                     lora={k: v.detach().float() for k, v in lora_state_dict(model).items()}, with_audio=with_audio,
                     step=result.step, device=device, dtype=dtype, dist=dist, events=events, samples=encoded,
                     final_checkpoint=final)
    if dist.is_main:
        if validation is not None:
            _validate(ctx, validation, prompts, stop)
        _export(ctx)
    if dist.enabled:
        torch.distributed.barrier()
    return ctx


def _built_quantization(spec: Spec, loader: ModelLoader) -> str | None:
    """The quantization the base was built with: the spec's, or fp8 when `speed.auto_fit` chose it."""
    if spec.quantization is not None:
        return spec.quantization
    return "fp8" if loader.quantization is not None else None  # fp8 is the only policy auto_fit picks


def _plan_memory(spec: Spec, files: ModelFiles, loader: ModelLoader, encoded: list, with_audio: bool,
                 device: torch.device, events: EventSink) -> str | None:
    """Estimate the step's GPU memory and log it; with `speed.auto_fit` pick checkpointing (and fp8 if bf16 cannot fit).

    Returns the checkpointing mode the plan chose, or None to keep the spec's.
    """
    from .models.checkpoint import quantization_policy

    video_tokens, audio_tokens = speed.sample_tokens(encoded)
    shape = speed.shape_from_checkpoint(files.ltx_file, spec.rank, with_audio, video_tokens, audio_tokens)
    choice = speed.plan_memory(spec.speed, shape, speed.free_cuda_bytes(device), spec.quantization,
                               spec.gradient_checkpointing)
    events.log(choice.log_line(), level="info" if choice.fits else "warning")
    if not spec.speed.auto_fit:
        return None
    if choice.setting.quantization == "fp8" and spec.quantization is None:
        loader.quantization = quantization_policy("fp8")
    return choice.setting.checkpoint


def _stage(name: str):  # noqa: ANN202 - a module or None
    try:
        return importlib.import_module(f"kiln_engine.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"kiln_engine.{name}"):
            return None
        raise


def _wants_validation(spec: Spec) -> bool:
    return not spec.skip_validation and bool(spec.request["validation"])


def _validation_module():  # noqa: ANN202
    module = _stage("validation")
    if module is None:
        raise BadSpec("the request has validation prompts but this engine build has no validation stage; "
                      "remove 'validation' from the request")
    return module


def _validate(ctx: RunContext, validation, prompts: dict[str, object], stop: StopFlag) -> None:  # noqa: ANN001
    """Sample the validation prompts with the trained LoRA (engineer E's stage) and report the mp4."""
    ctx.events.phase("validating")
    settings = validation.settings_from_spec(ctx.spec, run_has_audio=ctx.with_audio)
    prompt_list = prompts["list"]
    loader = ctx.loader
    models = validation.ValidationModels(
        transformer=ctx.model,
        video_decoder=loader.video_decoder(),
        video_encoder=loader.video_encoder() if any(p.image for p in prompt_list) else None,
        audio_decoder=loader.audio_decoder() if settings.generate_audio else None,
        vocoder=loader.vocoder() if settings.generate_audio else None,
    )
    with torch.no_grad():
        path = validation.validate(models, prompt_list, prompts["negative"], settings,
                                   ctx.output_dir / "validation.mp4",
                                   on_progress=lambda step, total: _validation_progress(ctx, stop, step, total))
    if path is not None:
        ctx.events.artifact("video", str(path))
    del models
    gc.collect()


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


def _validation_progress(ctx: RunContext, stop: StopFlag, step: int, total: int) -> None:
    ctx.events.progress("validating", step, total)
    if stop.requested:
        raise Interrupted(f"stopped by SIGTERM while sampling validation; training finished, checkpoint "
                          f"{ctx.final_checkpoint} holds the trained LoRA (resume_from it to export without retraining)")


def install_signal_handlers(stop: StopFlag) -> None:
    """SIGTERM / SIGINT: finish the step, save a checkpoint, exit with `Interrupted`'s code."""
    signal.signal(signal.SIGTERM, stop.request)
    signal.signal(signal.SIGINT, stop.request)


__all__ = ["install_signal_handlers", "model_files", "resolve_audio", "run"]
