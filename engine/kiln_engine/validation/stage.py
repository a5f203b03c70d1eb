"""The runner's validation stage: `run(ctx)` with the engine's `RunContext` after training."""
from __future__ import annotations

import gc
from typing import Any

import torch

from ..encode.cache import TensorCache, cache_key
from .models import ValidationModels
from .sampler import EncodedPrompt
from .settings import settings_from_spec
from .validate import ValidationPrompt, check_validation_request, validate

VIDEO_FILE_NAME = "validation.mp4"


def validation_texts(request: dict[str, Any]) -> list[str]:
    """Every text validation encodes: the prompts, then the negative prompt.

    The encoding phase can encode these next to the captions (same `text` cache key), so this
    stage finds them cached and never loads the text encoder next to the trained transformer.
    """
    texts = [e["prompt"] for e in request.get("validation") or []]
    return texts + [str(request.get("validation_negative_prompt", ""))]


def _free() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _encoded_texts(ctx: Any, texts: list[str]) -> dict[str, EncodedPrompt]:
    """Text contexts from the encode cache; misses are encoded now and cached."""
    from ..runner import model_files

    _, model_id = model_files(ctx.spec)
    cache = TensorCache(ctx.spec.cache_dir)
    keys = {t: cache_key("text", model_id, t) for t in texts}
    found: dict[str, EncodedPrompt] = {}
    for text, key in keys.items():
        hit = cache.get("text", key)
        if hit is not None:
            found[text] = EncodedPrompt(video=hit["video"], audio=hit["audio"])
    missing = [t for t in keys if t not in found]
    if missing:
        ctx.events.log(f"encoding {len(missing)} validation prompt(s)")
        text_encoder, processor = ctx.loader.text_encoder(), ctx.loader.embeddings_processor()
        with torch.inference_mode():
            for text in missing:
                hidden, mask = text_encoder.encode(text)
                out = processor.process_hidden_states(hidden, mask)
                tensors = {"video": out.video_encoding[0].float().cpu(), "audio": out.audio_encoding[0].float().cpu(),
                           "mask": out.attention_mask[0].cpu()}
                cache.put("text", keys[text], tensors)
                found[text] = EncodedPrompt(video=tensors["video"], audio=tensors["audio"])
        del text_encoder, processor
        _free()
    return found


def run(ctx: Any) -> None:
    """Samples the request's validation prompts with the trained LoRA into `validation.mp4` and announces it."""
    spec, request = ctx.spec, ctx.spec.request
    images = check_validation_request(request, spec.manifest.parent)
    if not images:
        return
    settings = settings_from_spec(spec, run_has_audio=ctx.with_audio)
    encoded = _encoded_texts(ctx, validation_texts(request))
    prompts = [ValidationPrompt(text=e["prompt"], encoded=encoded[e["prompt"]], image=img)
               for e, img in zip(request["validation"], images, strict=True)]
    negative = encoded[str(request.get("validation_negative_prompt", ""))]
    loader = ctx.loader
    models = ValidationModels(
        transformer=ctx.model,
        video_decoder=loader.video_decoder(),
        video_encoder=loader.video_encoder() if any(images) else None,
        audio_decoder=loader.audio_decoder() if settings.generate_audio else None,
        vocoder=loader.vocoder() if settings.generate_audio else None,
    )
    try:
        path = validate(models, prompts, negative, settings, spec.output_dir / VIDEO_FILE_NAME,
                        on_progress=lambda step, total: ctx.events.progress("validating", step, total))
    finally:
        del models
        _free()
    if path is not None:
        ctx.events.artifact("video", str(path))
