"""One training step of the tiny model on synthetic inputs: the loss and the LoRA gradients.

Shared by the equivalence tests (engine/tests/test_speed_*.py) and the CPU launch-count
benchmark (bench/engine_step/levers.py), so both measure exactly the engine's step: the
engine's loader, peft LoRA (`train/lora.py`), prepared item (`train/batch.py`) and loss
(`train/objective.py`). LoRA B starts random here (peft starts it at zero, which would leave
every A gradient zero and make the comparison blind to A).
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch

from ..encode.encoder import EncodedSample
from ..models.checkpoint import ModelLoader, locate_model
from ..models.tiny import ensure_tiny_model
from ..train.batch import TrainItem, prepare_item
from ..train.lora import add_lora, lora_state_dict
from ..train.objective import StepDraws, compute_loss


def synthetic_sample(frames: int = 25, size: int = 128, seed: int = 0, text_tokens: int = 64) -> EncodedSample:
    """An encoded clip for the tiny model: `frames` x `size`^2 pixels worth of latents, audio, `text_tokens` of text."""
    g = torch.Generator().manual_seed(seed)
    lf, lh = (frames - 1) // 8 + 1, size // 32
    return EncodedSample(
        id="probe", fps=25.0,
        video_latent=torch.randn(16, lf, lh, lh, generator=g),
        video_context=torch.randn(text_tokens, 32, generator=g), audio_context=torch.randn(text_tokens, 16, generator=g),
        context_mask=torch.ones(text_tokens, dtype=torch.int64),
        audio_latent=torch.randn(2, frames, 16, generator=g),
    )


@dataclass
class Probe:
    """A LoRA-injected tiny model, an item and fixed draws: everything one step needs."""

    model: torch.nn.Module
    item: TrainItem
    draws: StepDraws

    def step(self, autocast: torch.dtype | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Forward + backward once; the loss and each LoRA tensor's gradient (fp32 copies)."""
        self.model.train()
        self.model.zero_grad(set_to_none=True)
        ctx = torch.autocast("cpu", dtype=autocast) if autocast is not None else nullcontext()
        with ctx:
            loss = compute_loss(self.model, self.item, self.draws)
        loss.total.backward()
        grads = {}
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                assert p.grad is not None, f"{name} got no gradient"
                grads[name] = p.grad.detach().float().clone()
        return loss.total.detach().float(), grads


def make_probe(cache: Path, frames: int = 25, size: int = 128, rank: int = 8, seed: int = 0,
               condition_first_frame: bool = True, dtype: torch.dtype = torch.float32) -> Probe:
    """A probe on the tiny model (written into `cache` once), with the same weights for the same seed.

    `dtype` is the frozen base's and the items' dtype (bf16 is what the engine uses on CUDA; the
    LoRA weights stay fp32 either way, as `add_lora` makes them).
    """
    device = torch.device("cpu")
    loader = ModelLoader(locate_model(ensure_tiny_model(cache, 0)), device, dtype)
    torch.manual_seed(seed)
    model = add_lora(loader.transformer(), rank, with_audio=True).get_base_model()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for key, p in sorted(lora_state_dict(model).items()):
            if ".lora_B." in key:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    item = prepare_item(synthetic_sample(frames, size, seed), device, dtype, with_audio=True)
    assert item.audio_tokens is not None
    draws = StepDraws(sigma=torch.tensor([0.6]), video_noise=torch.randn(item.video_tokens.shape, generator=g).to(dtype),
                      audio_noise=torch.randn(item.audio_tokens.shape, generator=g).to(dtype),
                      condition_first_frame=condition_first_frame)
    return Probe(model=model, item=item, draws=draws)
