"""`python -m kiln_engine model-info <folder>`: check a model folder and describe it, without loading weights."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .models.checkpoint import locate_model


def describe_model(folder: str | Path) -> dict[str, Any]:
    """What the model folder holds (raises `ModelNotFound` when it is unusable)."""
    files = locate_model(folder)
    t = files.config.get("transformer", {})
    vocoder = files.config.get("vocoder", {})
    return {
        "ltx_file": str(files.ltx_file),
        "ltx_file_bytes": files.ltx_file.stat().st_size,
        "gemma_root": str(files.gemma_root),
        "tiny_text_encoder": files.is_tiny_text,
        "layers": t.get("num_layers", 48),
        "video_heads": t.get("num_attention_heads", 32),
        "video_head_dim": t.get("attention_head_dim", 128),
        "audio_heads": t.get("audio_num_attention_heads", 32),
        "audio_head_dim": t.get("audio_attention_head_dim", 64),
        "latent_channels": t.get("in_channels", 128),
        "gated_attention": bool(t.get("apply_gated_attention", False)),
        "cross_attention_adaln": bool(t.get("cross_attention_adaln", False)),
        # LTX-2.3 moved the caption projection before the connector; 19B (LTX-2) keeps it in the transformer.
        "generation": "LTX-2.3" if t.get("caption_proj_before_connector") else "LTX-2",
        "vocoder_bandwidth_extension": "bwe" in vocoder,
    }
