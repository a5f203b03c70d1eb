"""Validation entry points the training loop calls."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import BadSpec
from .images import image_path, image_pixels
from .models import ValidationModels
from .mux import write_mp4
from .sampler import EncodedPrompt, Sample, sample
from .settings import ValidationSettings


@dataclass
class ValidationPrompt:
    """One entry of the request's `validation` list, encoded."""

    text: str
    encoded: EncodedPrompt
    image: Path | None = None


def check_validation_request(request: dict[str, Any], base_dir: Path | None = None) -> list[Path | None]:
    """Checks the request's validation entries before training starts; returns each entry's image path.

    Raises `BadSpec` naming the bad entry: all entries must have an image or none, and each image
    must be a readable local file (or file:// URL).
    """
    entries = request.get("validation") or []
    with_image = [bool(e.get("image_url")) for e in entries]
    if any(with_image) and not all(with_image):
        raise BadSpec("request.validation: if one entry has an image_url, every entry must have one")
    paths: list[Path | None] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry.get("prompt"), str) or not entry["prompt"].strip():
            raise BadSpec(f"request.validation[{i}].prompt must be a non-empty string")
        url = entry.get("image_url")
        try:
            paths.append(image_path(url, base_dir) if url else None)
        except BadSpec as exc:
            raise BadSpec(f"request.validation[{i}].image_url: {exc}") from None
    return paths


def encode_validation_prompts(
    text_encoder: Any, embeddings_processor: Any, request: dict[str, Any], base_dir: Path | None = None
) -> tuple[list[ValidationPrompt], EncodedPrompt]:
    """Encodes the validation prompts and the negative prompt once (call before freeing Gemma).

    `text_encoder` is ltx-core's `GemmaTextEncoder` (`.encode(text) -> (hidden_states, mask)`),
    `embeddings_processor` its `EmbeddingsProcessor`. The results live on the CPU.
    """
    images = check_validation_request(request, base_dir)

    def encode(text: str) -> EncodedPrompt:
        with torch.inference_mode():
            hidden, mask = text_encoder.encode(text)
            out = embeddings_processor.process_hidden_states(hidden, mask)
        return EncodedPrompt(video=out.video_encoding.float().cpu(), audio=out.audio_encoding.float().cpu())

    prompts = [ValidationPrompt(text=e["prompt"], encoded=encode(e["prompt"]), image=img)
               for e, img in zip(request.get("validation") or [], images, strict=True)]
    negative = encode(str(request.get("validation_negative_prompt", "")))
    return prompts, negative


def render_samples(
    models: ValidationModels,
    prompts: list[ValidationPrompt],
    negative: EncodedPrompt,
    settings: ValidationSettings,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Sample]:
    """Samples every prompt (same seed each) and returns the decoded clips in order."""
    total = settings.steps * len(prompts)
    samples = []
    for index, prompt in enumerate(prompts):
        pixels = image_pixels(prompt.image, settings.width, settings.height) if prompt.image is not None else None

        def step(done: int, _steps: int, index: int = index) -> None:
            if on_progress is not None:
                on_progress(index * settings.steps + done, total)

        samples.append(sample(models, prompt.encoded, negative, settings, image_pixels=pixels, on_step=step))
    return samples


def validate(
    models: ValidationModels,
    prompts: list[ValidationPrompt],
    negative: EncodedPrompt,
    settings: ValidationSettings,
    output_path: str | Path,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path | None:
    """Samples every validation prompt with the trained LoRA and writes one mp4 playing them in order.

    Returns the mp4's path, or None when the request has no validation prompts. Emits no events:
    the caller reports progress (`on_progress(step, total)` over all prompts' sampling steps) and
    the `video` artifact.
    """
    if not prompts:
        return None
    samples = render_samples(models, prompts, negative, settings, on_progress)
    return write_mp4(samples, settings.fps, Path(output_path))
