"""What the training run hands to the validation and export stages (engineer E's modules)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .dist import DistInfo
from .encode.encoder import EncodedSample
from .events import EventSink
from .models.checkpoint import ModelFiles, ModelLoader
from .spec import Spec


@dataclass
class RunContext:
    """The state of a finished training run.

    `model` is the `LTXModel` with the trained LoRA layers injected (peft), on `device`, in
    eval mode; `peft_model` is its peft wrapper; `lora` maps module paths
    (`transformer_blocks.0.attn1.to_q.lora_A.weight`) to the trained fp32 tensors; LoRA alpha
    equals the rank, so the scale is 1.
    """

    spec: Spec
    files: ModelFiles
    loader: ModelLoader
    model: torch.nn.Module
    peft_model: torch.nn.Module
    lora: dict[str, torch.Tensor]
    with_audio: bool
    step: int
    device: torch.device
    dtype: torch.dtype
    dist: DistInfo
    events: EventSink
    samples: list[EncodedSample]
    final_checkpoint: Path | None

    @property
    def output_dir(self) -> Path:
        """Where artifacts go."""
        return self.spec.output_dir
