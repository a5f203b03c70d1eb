"""Encodes every manifest sample once (video VAE, audio VAE, text encoder), through the cache.

Each encoder is built only when something misses the cache and is freed right after, so
the transformer has the device to itself during training.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ltx_core.model.audio_vae import encode_audio

from ..errors import BadDataset
from ..manifest import Sample
from ..models.checkpoint import ModelLoader
from .cache import TensorCache, cache_key, file_digest
from .media import read_audio, read_pixels


@dataclass
class EncodedSample:
    """One sample's cached tensors (CPU)."""

    id: str
    fps: float
    video_latent: torch.Tensor  # [C, F', H', W'], normalised
    video_context: torch.Tensor  # [L, Dv], after the connector
    audio_context: torch.Tensor  # [L, Da], after the connector
    context_mask: torch.Tensor  # [L]
    audio_latent: torch.Tensor | None = None  # [C, T, F], normalised


@dataclass
class EncodeStats:
    """Cache hits and misses per kind, for tests and logs."""

    hits: dict[str, int] = field(default_factory=lambda: {"video": 0, "audio": 0, "text": 0})
    misses: dict[str, int] = field(default_factory=lambda: {"video": 0, "audio": 0, "text": 0})


def _free(*modules: torch.nn.Module) -> None:
    for m in modules:
        m.to("meta")
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def encode_dataset(
    samples: list[Sample],
    loader: ModelLoader,
    cache: TensorCache,
    model_id: str,
    with_audio: bool,
    on_progress: Callable[[int, int], None] | None = None,
    text_hook: Callable[[Any, Any], None] | None = None,
) -> tuple[list[EncodedSample], EncodeStats]:
    """Latents and embeddings of every sample, encoding only cache misses.

    `text_hook(text_encoder, embeddings_processor)`, when given, runs while the text encoder is
    loaded (it is loaded for it even when every caption hits the cache): validation prompts.
    """
    stats = EncodeStats()
    total = len(samples) * (3 if with_audio else 2)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    # Keys first (cheap), then one pass per encoder over the misses only.
    video_keys = [cache_key("video", model_id, file_digest(s.media), str(s.frames), str(s.width), str(s.height)) for s in samples]
    text_keys = [cache_key("text", model_id, s.caption) for s in samples]
    audio_keys: list[str | None] = []
    for s in samples:
        if not with_audio:
            audio_keys.append(None)
            continue
        if s.audio is None:
            raise BadDataset(f"sample {s.id} has no audio file but the job trains with audio; give every clip a .wav or set with_audio to false")
        audio_keys.append(cache_key("audio", model_id, file_digest(s.audio), f"{s.frames / s.fps:.6f}"))

    results: dict[str, dict[int, dict[str, torch.Tensor]]] = {"video": {}, "audio": {}, "text": {}}
    misses: dict[str, list[int]] = {"video": [], "audio": [], "text": []}
    for kind, keys in (("video", video_keys), ("audio", audio_keys), ("text", text_keys)):
        for i, key in enumerate(keys):
            if key is None:
                continue
            hit = cache.get(kind, key)
            if hit is None:
                misses[kind].append(i)
                stats.misses[kind] += 1
            else:
                results[kind][i] = hit
                stats.hits[kind] += 1
                tick()

    device, dtype = loader.device, loader.dtype
    if misses["video"]:
        encoder = loader.video_encoder()
        with torch.inference_mode():
            for i in misses["video"]:
                pixels = read_pixels(samples[i]).to(device=device, dtype=dtype)
                latent = encoder(pixels)[0].float().cpu()
                results["video"][i] = {"latent": latent}
                cache.put("video", video_keys[i], results["video"][i])
                tick()
        _free(encoder)
    if misses["audio"]:
        encoder = loader.audio_encoder()
        with torch.inference_mode():
            for i in misses["audio"]:
                audio = read_audio(samples[i])
                latent = encode_audio(audio, encoder)[0].float().cpu()
                results["audio"][i] = {"latent": latent}
                cache.put("audio", audio_keys[i], results["audio"][i])  # type: ignore[arg-type]
                tick()
        _free(encoder)
    if misses["text"] or text_hook is not None:
        text_encoder = loader.text_encoder()
        processor = loader.embeddings_processor()
        with torch.inference_mode():
            for i in misses["text"]:
                hidden, mask = text_encoder.encode(samples[i].caption)
                out = processor.process_hidden_states(hidden, mask)
                results["text"][i] = {
                    "video": out.video_encoding[0].float().cpu(),
                    "audio": out.audio_encoding[0].float().cpu(),
                    "mask": out.attention_mask[0].cpu(),
                }
                cache.put("text", text_keys[i], results["text"][i])
                tick()
        if text_hook is not None:
            text_hook(text_encoder, processor)
        _free(text_encoder, processor)

    encoded = []
    for i, s in enumerate(samples):
        text = results["text"][i]
        encoded.append(
            EncodedSample(
                id=s.id,
                fps=s.fps,
                video_latent=results["video"][i]["latent"],
                video_context=text["video"],
                audio_context=text["audio"],
                context_mask=text["mask"],
                audio_latent=results["audio"][i]["latent"] if with_audio else None,
            )
        )
    return encoded, stats
