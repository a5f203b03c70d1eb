"""The models validation needs, as the training loop holds them."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ValidationModels:
    """The trained transformer (with its LoRA, peft-wrapped or not) and the decoders.

    `video_encoder` is needed only for image-to-video prompts; `audio_decoder` and `vocoder`
    only when audio is generated. All must sit on the transformer's device.
    """

    transformer: torch.nn.Module
    video_decoder: torch.nn.Module
    video_encoder: torch.nn.Module | None = None
    audio_decoder: torch.nn.Module | None = None
    vocoder: torch.nn.Module | None = None
