"""Fills Gemma 3's non-persistent buffers after a meta-device build.

ltx-core 1.0.0's `GEMMA_MODEL_OPS` was written for transformers 4.x module paths
(`vision_tower.vision_model`, `rotary_emb_local`); with transformers 5.x they moved, so we
recreate the buffers from the modules' own constructors instead, which follows whatever
layout the installed transformers has.
"""
from __future__ import annotations

import torch

from ltx_core.loader.module_ops import ModuleOps
from ltx_core.text_encoders.gemma import GemmaTextEncoder


def _populate(module: GemmaTextEncoder) -> GemmaTextEncoder:
    inner = module.model.model
    lm = inner.language_model
    cfg = lm.config
    fresh_rotary = type(lm.rotary_emb)(config=cfg)
    for name, buf in fresh_rotary.named_buffers():
        lm.rotary_emb.register_buffer(name, buf, persistent=False)
    if hasattr(lm.embed_tokens, "embed_scale"):
        lm.embed_tokens.register_buffer("embed_scale", torch.tensor(cfg.hidden_size**0.5), persistent=False)
    vision = getattr(inner, "vision_tower", None)
    if vision is not None:
        embeddings = vision.vision_model.embeddings if hasattr(vision, "vision_model") else vision.embeddings
        positions = embeddings.position_embedding.num_embeddings
        embeddings.register_buffer("position_ids", torch.arange(positions).unsqueeze(0), persistent=False)
    return module


#: Module op for `SingleGPUModelBuilder`: replaces ltx-core's `GEMMA_MODEL_OPS`.
GEMMA_BUFFERS_OPS = ModuleOps(
    name="KilnGemmaBuffers",
    matcher=lambda module: isinstance(module, GemmaTextEncoder) and module.model is not None,
    mutator=_populate,
)
