"""Locating a model folder and loading its parts through ltx-core's builders and key maps.

A model folder holds one LTX-2.3 `.safetensors` file (transformer, video VAE, audio VAE,
vocoder, text projection and connectors; its metadata `config` holds the model config) and a
Gemma folder (weights + tokenizer). The tiny test model is written in the same layout and
loaded by this same code; only its text encoder brings its own configurator (see `text.py`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors
import torch

from ltx_core.loader.single_gpu_model_builder import SingleGPUModelBuilder
from ltx_core.model.audio_vae import (
    AUDIO_VAE_DECODER_COMFY_KEYS_FILTER,
    AUDIO_VAE_ENCODER_COMFY_KEYS_FILTER,
    VOCODER_COMFY_KEYS_FILTER,
    AudioDecoder,
    AudioDecoderConfigurator,
    AudioEncoder,
    AudioEncoderConfigurator,
    Vocoder,
    VocoderConfigurator,
)
from ltx_core.model.transformer import LTXV_MODEL_COMFY_RENAMING_MAP, LTXModelConfigurator
from ltx_core.model.transformer.model import LTXModel
from ltx_core.model.video_vae import (
    VAE_DECODER_COMFY_KEYS_FILTER,
    VAE_ENCODER_COMFY_KEYS_FILTER,
    VideoDecoder,
    VideoDecoderConfigurator,
    VideoEncoder,
    VideoEncoderConfigurator,
)
from ltx_core.quantization import QuantizationPolicy
from ltx_core.text_encoders.gemma import (
    EMBEDDINGS_PROCESSOR_KEY_OPS,
    GEMMA_LLM_KEY_OPS,
    EmbeddingsProcessor,
    EmbeddingsProcessorConfigurator,
    GemmaTextEncoder,
    GemmaTextEncoderConfigurator,
)
from ltx_core.loader.module_ops import ModuleOps
from ltx_core.text_encoders.gemma.tokenizer import LTXVGemmaTokenizer

from ..errors import BadSpec, ModelNotFound
from . import text as tiny_text
from .gemma_buffers import GEMMA_BUFFERS_OPS


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model folder."""

    folder: Path
    ltx_file: Path
    gemma_root: Path
    config: dict[str, Any]

    @property
    def is_tiny_text(self) -> bool:
        """Whether the text encoder is Kiln's tiny stand-in rather than Gemma 3 12B."""
        return (self.gemma_root / tiny_text.TINY_TOKENIZER_FILE).is_file()


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception:  # noqa: BLE001 - unreadable files are just not the model file
        return None
    if "config" not in meta:
        return None
    try:
        config = json.loads(meta["config"])
    except json.JSONDecodeError:
        return None
    return config if isinstance(config, dict) and "transformer" in config else None


def locate_model(folder: str | Path) -> ModelFiles:
    """Find the LTX-2.3 checkpoint file and the Gemma folder in `folder`.

    Raises `ModelNotFound` naming what is missing.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ModelNotFound(f"model folder {root} does not exist; point model.path at the folder holding the LTX-2.3 .safetensors file and the Gemma folder")
    found = [(c, cfg) for c in sorted(root.glob("*.safetensors")) if (cfg := _read_config(c)) is not None]
    # A release folder may hold the dev and the distilled transformer: LoRAs train on the dev one.
    found.sort(key=lambda pair: ("distilled" in pair[0].name.lower(), "dev" not in pair[0].name.lower(), pair[0].name))
    ltx_file, config = found[0] if found else (None, None)
    if ltx_file is None or config is None:
        raise ModelNotFound(f"no LTX-2.3 checkpoint (.safetensors with a 'config' metadata entry holding a transformer config) in {root}")
    gemma_root = None
    for marker in ("tokenizer.model", tiny_text.TINY_TOKENIZER_FILE):
        hits = sorted(root.rglob(marker))
        if hits:
            gemma_root = hits[0].parent
            break
    if gemma_root is None:
        raise ModelNotFound(f"no Gemma text encoder folder (with tokenizer.model) under {root}")
    if not any(gemma_root.rglob("model*.safetensors")):
        raise ModelNotFound(f"the Gemma folder {gemma_root} has no model*.safetensors weights")
    return ModelFiles(folder=root, ltx_file=ltx_file, gemma_root=gemma_root, config=config)


def quantization_policy(name: str | None) -> QuantizationPolicy | None:
    """The ltx-core quantisation policy for the spec's `quantization` value."""
    if name is None:
        return None
    if name == "fp8":
        return QuantizationPolicy.fp8_cast()
    raise BadSpec(f"quantization {name!r} is not available: ltx-core 1.0.0 offers fp8 weight casting only; use \"fp8\" or null")


#: Gemma's prompt length in LTX-2 (left padded), as ltx-core's own tokenizer op sets it.
GEMMA_MAX_TOKENS = 1024


def gemma_tokenizer_op(gemma_root: Path) -> ModuleOps:
    """Attach ltx-core's Gemma tokenizer (1024 tokens, left padding).

    ltx-core's `module_ops_from_gemma_root` also loads the image processor, which only prompt
    enhancement uses; training needs the tokenizer alone, so a folder without
    `preprocessor_config.json` still works.
    """
    tokenizer_root = next(iter(sorted(gemma_root.rglob("tokenizer.model")))).parent

    def attach(module: GemmaTextEncoder) -> GemmaTextEncoder:
        module.tokenizer = LTXVGemmaTokenizer(str(tokenizer_root), GEMMA_MAX_TOKENS)
        return module

    return ModuleOps("KilnGemmaTokenizer",
                     matcher=lambda m: isinstance(m, GemmaTextEncoder) and m.tokenizer is None, mutator=attach)


def _checked(model: torch.nn.Module, part: str, path: Path) -> Any:
    """ltx-core's builder returns a half-empty meta model with a warning when keys are missing; make that an error."""
    missing = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.device.type == "meta"]
    if missing:
        raise ModelNotFound(f"{path} lacks weights for the {part} ({len(missing)} tensors, e.g. {', '.join(missing[:3])}); the file is incomplete or not an LTX-2.3 checkpoint")
    return model


class ModelLoader:
    """Builds each part of a model folder on a device, through ltx-core's `SingleGPUModelBuilder`."""

    def __init__(self, files: ModelFiles, device: torch.device, dtype: torch.dtype, quantization: str | None = None) -> None:
        self.files = files
        self.device = device
        self.dtype = dtype
        self.quantization = quantization_policy(quantization)

    def _builder(self, configurator: Any, sd_ops: Any, path: Any = None, module_ops: tuple = ()) -> SingleGPUModelBuilder:
        return SingleGPUModelBuilder(
            model_class_configurator=configurator,
            model_path=str(self.files.ltx_file) if path is None else path,
            model_sd_ops=sd_ops,
            module_ops=module_ops,
        )

    def transformer(self) -> LTXModel:
        """The velocity transformer (`LTXModel`), frozen base weights in the loader's dtype."""
        builder = self._builder(LTXModelConfigurator, LTXV_MODEL_COMFY_RENAMING_MAP)
        if self.quantization is None:
            return _checked(builder.build(device=self.device, dtype=self.dtype), "transformer", self.files.ltx_file)
        from ltx_core.loader.sd_ops import SDOps

        q = self.quantization
        sd_ops = builder.model_sd_ops
        if q.sd_ops is not None:
            sd_ops = SDOps(name=f"{sd_ops.name}+{q.sd_ops.name}", mapping=(*sd_ops.mapping, *q.sd_ops.mapping))
        builder = SingleGPUModelBuilder(
            model_class_configurator=LTXModelConfigurator,
            model_path=str(self.files.ltx_file),
            model_sd_ops=sd_ops,
            module_ops=tuple(q.module_ops),
        )
        model = _checked(builder.build(device=self.device), "transformer", self.files.ltx_file)
        # The policy keeps the projections in fp8 and leaves the rest as stored; bring the rest to our dtype.
        fp8 = (torch.float8_e4m3fn, torch.float8_e5m2)
        with torch.no_grad():
            for t in list(model.parameters()) + list(model.buffers()):
                if t.is_floating_point() and t.dtype not in fp8 and t.dtype != self.dtype:
                    t.data = t.data.to(self.dtype)
        return model

    def video_encoder(self) -> VideoEncoder:
        """The video VAE encoder."""
        return _checked(self._builder(VideoEncoderConfigurator, VAE_ENCODER_COMFY_KEYS_FILTER).build(device=self.device, dtype=self.dtype), "video encoder", self.files.ltx_file).eval()

    def video_decoder(self) -> VideoDecoder:
        """The video VAE decoder."""
        return _checked(self._builder(VideoDecoderConfigurator, VAE_DECODER_COMFY_KEYS_FILTER).build(device=self.device, dtype=self.dtype), "video decoder", self.files.ltx_file).eval()

    def audio_encoder(self) -> AudioEncoder:
        """The audio VAE encoder; run it in float32 (the official trainer does)."""
        return _checked(self._builder(AudioEncoderConfigurator, AUDIO_VAE_ENCODER_COMFY_KEYS_FILTER).build(device=self.device, dtype=torch.float32), "audio encoder", self.files.ltx_file).eval()

    def audio_decoder(self) -> AudioDecoder:
        """The audio VAE decoder."""
        return _checked(self._builder(AudioDecoderConfigurator, AUDIO_VAE_DECODER_COMFY_KEYS_FILTER).build(device=self.device, dtype=self.dtype), "audio decoder", self.files.ltx_file).eval()

    def vocoder(self) -> Vocoder:
        """The vocoder (HiFi-GAN, or BigVGAN + bandwidth extension for LTX-2.3)."""
        return _checked(self._builder(VocoderConfigurator, VOCODER_COMFY_KEYS_FILTER).build(device=self.device, dtype=self.dtype), "vocoder", self.files.ltx_file).eval()

    def embeddings_processor(self) -> EmbeddingsProcessor:
        """Text feature extractor + video/audio connectors (frozen)."""
        configurator = tiny_text.TinyEmbeddingsProcessorConfigurator if self.files.is_tiny_text else EmbeddingsProcessorConfigurator
        model = self._builder(configurator, EMBEDDINGS_PROCESSOR_KEY_OPS).build(device=self.device, dtype=self.dtype)
        return _checked(model, "text connectors", self.files.ltx_file).eval()

    def text_encoder(self) -> GemmaTextEncoder:
        """The Gemma text encoder with its tokenizer."""
        root = self.files.gemma_root
        weights = tuple(str(p) for p in sorted(root.rglob("*.safetensors")))
        if self.files.is_tiny_text:
            text_cfg = tiny_text.tiny_text_config_of(root)
            configurator = tiny_text.tiny_text_encoder_configurator(text_cfg)
            module_ops = (GEMMA_BUFFERS_OPS, *tiny_text.tiny_tokenizer_ops(text_cfg))
        else:
            configurator = GemmaTextEncoderConfigurator
            module_ops = (GEMMA_BUFFERS_OPS, gemma_tokenizer_op(root))
        builder = self._builder(configurator, GEMMA_LLM_KEY_OPS, path=weights, module_ops=module_ops)
        return _checked(builder.build(device=self.device, dtype=self.dtype), "text encoder", root).eval()
