"""The built-in tiny test model: random weights in ltx-core's classes, written as a real model folder.

`ensure_tiny_model(cache_dir, seed)` writes (once per seed) a folder laid out like the real
LTX-2.3 release: `ltx-2.3-tiny.safetensors` with `model.diffusion_model.*`, `vae.*`,
`audio_vae.*`, `vocoder.*` and `text_embedding_projection.*` keys and the config JSON in its
metadata, and `gemma/model.safetensors` with Gemma's key layout. Loading goes through
`checkpoint.ModelLoader`, the code that loads the real model.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers.models.gemma3 import Gemma3ForConditionalGeneration

from ltx_core.model.audio_vae import AudioDecoderConfigurator, AudioEncoderConfigurator, VocoderConfigurator
from ltx_core.model.transformer import LTXModelConfigurator
from ltx_core.model.video_vae import VideoDecoderConfigurator, VideoEncoderConfigurator

from . import text as tiny_text
from .tiny_config import tiny_config

TINY_FILE = "ltx-2.3-tiny.safetensors"
#: Bump when the tiny model's layout or init changes, so cached folders are rebuilt.
TINY_VERSION = 1


def _init_empty(module: torch.nn.Module, gen: torch.Generator) -> None:
    """Give values to what ltx-core creates with `torch.empty` (scale-shift tables, latent statistics)."""
    for name, param in module.named_parameters():
        if "scale_shift_table" in name:
            with torch.no_grad():
                param.copy_(torch.randn(param.shape, generator=gen) / param.shape[-1] ** 0.5)
    for name, buf in module.named_buffers():
        with torch.no_grad():
            if name.endswith("std-of-means"):
                buf.copy_(0.5 + torch.rand(buf.shape, generator=gen))
            elif name.endswith("mean-of-means"):
                buf.copy_(0.1 * torch.randn(buf.shape, generator=gen))


def _prefixed(prefix: str, sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + k: v.detach().clone().contiguous() for k, v in sd.items()}


def _vae_state_dict(prefix: str, encoder: torch.nn.Module, decoder: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A VAE's keys as the release stores them: the latent statistics once, at the top, from the encoder."""
    stats = "per_channel_statistics."
    out = {(prefix + k if k.startswith(stats) else prefix + "encoder." + k): v for k, v in encoder.state_dict().items()}
    out.update({prefix + "decoder." + k: v for k, v in decoder.state_dict().items() if not k.startswith(stats)})
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def _ltx_state_dict(seed: int) -> dict[str, torch.Tensor]:
    cfg = tiny_config()
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}

    transformer = LTXModelConfigurator.from_config(cfg)
    _init_empty(transformer, gen)
    sd.update(_prefixed("model.diffusion_model.", transformer.state_dict()))

    processor = tiny_text.TinyEmbeddingsProcessorConfigurator.from_config(cfg)
    psd = processor.state_dict()
    for k, v in psd.items():
        if k.startswith("feature_extractor."):
            sd["text_embedding_projection." + k.removeprefix("feature_extractor.")] = v.detach().clone().contiguous()
        elif k.startswith("video_connector."):
            sd["model.diffusion_model.video_embeddings_connector." + k.removeprefix("video_connector.")] = v.detach().clone().contiguous()
        elif k.startswith("audio_connector."):
            sd["model.diffusion_model.audio_embeddings_connector." + k.removeprefix("audio_connector.")] = v.detach().clone().contiguous()

    encoder = VideoEncoderConfigurator.from_config(cfg)
    decoder = VideoDecoderConfigurator.from_config(cfg)
    _init_empty(encoder, gen)
    _init_empty(decoder, gen)
    sd.update(_vae_state_dict("vae.", encoder, decoder))

    audio_encoder = AudioEncoderConfigurator.from_config(cfg)
    audio_decoder = AudioDecoderConfigurator.from_config(cfg)
    _init_empty(audio_encoder, gen)
    sd.update(_vae_state_dict("audio_vae.", audio_encoder, audio_decoder))

    vocoder = VocoderConfigurator.from_config(cfg)
    sd.update(_prefixed("vocoder.", vocoder.state_dict()))
    # Checkpoints ship in bf16; keep the statistics exact in float32 like the real file does for buffers.
    return {k: (v.to(torch.bfloat16) if v.is_floating_point() and "per_channel_statistics" not in k else v) for k, v in sd.items()}


def _gemma_state_dict(seed: int) -> dict[str, torch.Tensor]:
    text_cfg = tiny_config()["kiln_text_encoder"]
    torch.manual_seed(seed + 1)
    model = Gemma3ForConditionalGeneration(tiny_text.tiny_gemma_config(text_cfg))
    out: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        if k == "lm_head.weight":
            continue  # tied to embed_tokens; the key map recreates it
        if k.startswith("model.language_model."):
            key = "language_model.model." + k.removeprefix("model.language_model.")
        elif k.startswith("model.vision_tower."):
            key = "vision_tower." + k.removeprefix("model.vision_tower.")
        elif k.startswith("model.multi_modal_projector."):
            key = "multi_modal_projector." + k.removeprefix("model.multi_modal_projector.")
        else:
            continue
        out[key] = v.detach().clone().contiguous().to(torch.bfloat16)
    return out


def write_tiny_model(folder: Path, seed: int) -> None:
    """Write a tiny model folder for `seed` into `folder` (which must not exist yet)."""
    cfg = tiny_config()
    folder.mkdir(parents=True)
    save_file(_ltx_state_dict(seed), str(folder / TINY_FILE), metadata={"config": json.dumps(cfg), "kiln_tiny_seed": str(seed)})
    gemma = folder / "gemma"
    gemma.mkdir()
    save_file(_gemma_state_dict(seed), str(gemma / "model.safetensors"), metadata={"format": "pt"})
    (gemma / tiny_text.TINY_TOKENIZER_FILE).write_text(json.dumps(cfg["kiln_text_encoder"]))


def ensure_tiny_model(cache_dir: str | Path, seed: int) -> Path:
    """The cached tiny model folder for `seed` under `cache_dir`, written once (atomically) if absent."""
    root = Path(cache_dir) / "models"
    final = root / f"tiny-v{TINY_VERSION}-seed{seed}"
    if (final / TINY_FILE).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-", dir=root))
    shutil.rmtree(tmp)
    write_tiny_model(tmp, seed)
    try:
        os.rename(tmp, final)
    except OSError:
        # Another process won the race; its folder is identical.
        shutil.rmtree(tmp, ignore_errors=True)
    return final
