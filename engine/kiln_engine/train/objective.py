"""LTX-2's rectified-flow objective, as the official trainer computes it.

noisy = (1 - sigma) * x0 + sigma * noise, target velocity = noise - x0, plain MSE.
One sigma per sample, shared by video and audio. With probability
`first_frame_conditioning_p` (one draw per step) the first latent frame's tokens stay clean,
get timestep 0 and are left out of the loss (image-to-video). Total = video + audio.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ltx_core.guidance.perturbations import BatchedPerturbationConfig
from ltx_core.model.transformer.modality import Modality

from .batch import TrainItem

_NO_PERTURBATIONS = BatchedPerturbationConfig.empty(1)


@dataclass
class StepDraws:
    """The random draws of one step (made on the CPU generator, so runs are reproducible)."""

    sigma: torch.Tensor  # [1]
    video_noise: torch.Tensor
    audio_noise: torch.Tensor | None
    condition_first_frame: bool


@dataclass
class StepLoss:
    """The loss of one step and its parts (tensors; read them only when reporting)."""

    total: torch.Tensor
    video: torch.Tensor
    audio: torch.Tensor | None


def build_inputs(item: TrainItem, draws: StepDraws) -> tuple[Modality, Modality | None, torch.Tensor, torch.Tensor | None, torch.Tensor, float]:
    """Model inputs for a step, the velocity targets, the video token mask [1, T, 1] and its element count.

    The mask (1 = noised and scored, 0 = clean conditioning token) is prepared once per item, so a
    step only multiplies by it: noisy = x0 + sigma * mask * (noise - x0), timesteps = sigma * mask.
    """
    x0 = item.video_tokens
    # sigma and timesteps stay float32 (the model scales them by 1000; bf16 would quantise them).
    sigma = draws.sigma.to(device=x0.device, dtype=torch.float32)
    sigma_x = sigma.to(x0.dtype)
    condition = draws.condition_first_frame and item.first_frame_tokens > 0
    mask = item.noise_mask_first_clean if condition else item.noise_mask
    count = item.loss_count_first_clean if condition else item.loss_count
    assert mask is not None
    noise = draws.video_noise
    video_target = noise - x0
    video = Modality(
        latent=x0 + (sigma_x.view(-1, 1, 1) * mask) * video_target,
        sigma=sigma,
        timesteps=sigma.view(-1, 1) * mask[..., 0].float(),
        positions=item.video_positions,
        context=item.video_context,
        context_mask=item.context_mask,
    )
    audio = None
    audio_target = None
    if item.audio_tokens is not None and draws.audio_noise is not None:
        a0 = item.audio_tokens
        audio_target = draws.audio_noise - a0
        audio = Modality(
            latent=a0 + sigma_x.view(-1, 1, 1) * audio_target,
            sigma=sigma,
            timesteps=sigma.view(-1, 1).expand(a0.shape[0], a0.shape[1]),
            positions=item.audio_positions,
            context=item.audio_context,
            context_mask=item.context_mask,
        )
    return video, audio, video_target, audio_target, mask, count


def compute_loss(model: torch.nn.Module, item: TrainItem, draws: StepDraws) -> StepLoss:
    """Forward the transformer and return the masked MSE on velocities (video + audio)."""
    video, audio, video_target, audio_target, mask, count = build_inputs(item, draws)
    video_pred, audio_pred = model(video=video, audio=audio, perturbations=_NO_PERTURBATIONS)
    video_loss = ((video_pred.float() - video_target.float()).square() * mask).sum() / count
    total = video_loss
    audio_loss = None
    if audio_pred is not None and audio_target is not None:
        audio_loss = (audio_pred.float() - audio_target.float()).square().mean()
        total = total + audio_loss
    return StepLoss(total=total, video=video_loss, audio=audio_loss)
