"""The tiny text stack: a small Gemma3, a deterministic stand-in tokenizer and a tiny embeddings processor.

ltx-core's Gemma configurator is fixed to the 12B model and its embeddings-processor
configurator to 12B's hidden size, so the tiny model brings its own configurators. They
build the same classes (Gemma3ForConditionalGeneration inside GemmaTextEncoder,
FeatureExtractorV2 + Embeddings1DConnector inside EmbeddingsProcessor) and are loaded by the
same builder and key maps as the real files.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import Gemma3Config
from transformers.models.gemma3 import Gemma3ForConditionalGeneration

from ltx_core.loader.module_ops import ModuleOps
from ltx_core.model.model_protocol import ModelConfigurator
from ltx_core.text_encoders.gemma import EmbeddingsProcessor, GemmaTextEncoder
from ltx_core.text_encoders.gemma.embeddings_connector import (
    AudioEmbeddings1DConnectorConfigurator,
    Embeddings1DConnectorConfigurator,
)
from ltx_core.text_encoders.gemma.feature_extractor import FeatureExtractorV2

#: File that marks a tiny text-encoder folder and holds its tokenizer settings.
TINY_TOKENIZER_FILE = "kiln_tiny_tokenizer.json"

_PAD, _BOS, _EOS = 0, 1, 2
_BYTE_OFFSET = 4


class TinyTokenizer:
    """Byte-level stand-in for Gemma's tokenizer with the same interface as `LTXVGemmaTokenizer`.

    Deterministic (UTF-8 bytes + offset), left-padded to `max_length` like the real one.
    """

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length

    def tokenize_with_weights(self, text: str, return_word_ids: bool = False) -> dict[str, list[tuple[int, ...]]]:
        """Token ids and attention weights, `{"gemma": [(id, mask), ...]}`, left padded."""
        ids = [_BOS] + [b + _BYTE_OFFSET for b in text.strip().encode("utf-8")]
        ids = ids[: self.max_length]
        pad = self.max_length - len(ids)
        pairs = [(_PAD, 0)] * pad + [(i, 1) for i in ids]
        if return_word_ids:
            return {"gemma": [(t, w, i) for i, (t, w) in enumerate(pairs)]}
        return {"gemma": pairs}


def tiny_gemma_config(text_cfg: dict[str, Any]) -> Gemma3Config:
    """A Gemma3 multimodal config at test size (tiny SigLIP tower included, as the real model has one)."""
    hidden = int(text_cfg["hidden_size"])
    return Gemma3Config(
        text_config={
            "hidden_size": hidden,
            "intermediate_size": hidden * 2,
            "num_hidden_layers": int(text_cfg["num_hidden_layers"]),
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 16,
            "query_pre_attn_scalar": 16,
            "vocab_size": int(text_cfg["vocab_size"]),
            "max_position_embeddings": 512,
            "sliding_window": 64,
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "rope_local_base_freq": 10000,
            "rope_theta": 1000000,
            "pad_token_id": _PAD,
        },
        vision_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 28,
            "patch_size": 14,
            "vision_use_head": False,
        },
        mm_tokens_per_image=4,
        image_token_index=int(text_cfg["vocab_size"]) - 1,
        boi_token_index=int(text_cfg["vocab_size"]) - 2,
        eoi_token_index=int(text_cfg["vocab_size"]) - 3,
    )


def tiny_text_config_of(folder: Path) -> dict[str, Any]:
    """The tiny text encoder's settings stored next to its weights."""
    return json.loads((folder / TINY_TOKENIZER_FILE).read_text())


def tiny_text_encoder_configurator(text_cfg: dict[str, Any]) -> type[ModelConfigurator[GemmaTextEncoder]]:
    """A configurator class building the tiny Gemma on the meta device, like ltx-core's for 12B."""

    class TinyGemmaTextEncoderConfigurator(ModelConfigurator[GemmaTextEncoder]):
        @classmethod
        def from_config(cls, config: dict) -> GemmaTextEncoder:  # noqa: ARG003
            with torch.device("meta"):
                model = Gemma3ForConditionalGeneration(tiny_gemma_config(text_cfg))
            return GemmaTextEncoder(model=model)

    return TinyGemmaTextEncoderConfigurator


def tiny_tokenizer_ops(text_cfg: dict[str, Any]) -> tuple[ModuleOps, ...]:
    """Module ops that attach the stand-in tokenizer, in place of ltx-core's tokenizer/processor loading."""

    def attach(module: GemmaTextEncoder) -> GemmaTextEncoder:
        module.tokenizer = TinyTokenizer(int(text_cfg["max_tokens"]))
        return module

    return (
        ModuleOps(
            "KilnTinyTokenizerLoad",
            matcher=lambda module: isinstance(module, GemmaTextEncoder) and module.tokenizer is None,
            mutator=attach,
        ),
    )


class TinyEmbeddingsProcessorConfigurator(ModelConfigurator[EmbeddingsProcessor]):
    """ltx-core's V2 (LTX-2.3) embeddings processor with the tiny text encoder's hidden size."""

    @classmethod
    def from_config(cls, config: dict) -> EmbeddingsProcessor:
        text_cfg = config["kiln_text_encoder"]
        tcfg = config["transformer"]
        hidden = int(text_cfg["hidden_size"])
        flat = hidden * (int(text_cfg["num_hidden_layers"]) + 1)
        video_dim = tcfg["num_attention_heads"] * tcfg["attention_head_dim"]
        audio_dim = tcfg["audio_num_attention_heads"] * tcfg["audio_attention_head_dim"]
        return EmbeddingsProcessor(
            video_connector=Embeddings1DConnectorConfigurator.from_config(config),
            audio_connector=AudioEmbeddings1DConnectorConfigurator.from_config(config),
            feature_extractor=FeatureExtractorV2(
                video_aggregate_embed=torch.nn.Linear(flat, video_dim, bias=True),
                embedding_dim=hidden,
                audio_aggregate_embed=torch.nn.Linear(flat, audio_dim, bias=True),
            ),
        )
