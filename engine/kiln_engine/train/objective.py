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


def build_inputs(item: TrainItem, draws: StepDraws) -> tuple[Modality, Modality | None, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Model inputs for a step, the velocity targets and the video loss mask [1, T]."""
    x0 = item.video_tokens
    sigma = draws.sigma.to(device=x0.device, dtype=x0.dtype)
    noise = draws.video_noise
    s = sigma.view(-1, 1, 1)
    noisy = (1 - s) * x0 + s * noise
    timesteps = sigma.view(-1, 1).expand(x0.shape[0], x0.shape[1])
    loss_mask = torch.ones(x0.shape[:2], device=x0.device, dtype=x0.dtype)
    if draws.condition_first_frame and item.first_frame_tokens > 0:
        n = item.first_frame_tokens
        keep = torch.zeros((1, x0.shape[1], 1), device=x0.device, dtype=torch.bool)
        keep[:, :n] = True
        noisy = torch.where(keep, x0, noisy)
        timesteps = timesteps.clone()
        timesteps[:, :n] = 0.0
        loss_mask = loss_mask.clone()
        loss_mask[:, :n] = 0.0
    video = Modality(
        latent=noisy,
        sigma=sigma,
        timesteps=timesteps,
        positions=item.video_positions,
        context=item.video_context,
        context_mask=item.context_mask,
    )
    video_target = noise - x0
    audio = None
    audio_target = None
    if item.audio_tokens is not None and draws.audio_noise is not None:
        a0 = item.audio_tokens
        anoise = draws.audio_noise
        audio = Modality(
            latent=(1 - s) * a0 + s * anoise,
            sigma=sigma,
            timesteps=sigma.view(-1, 1).expand(a0.shape[0], a0.shape[1]),
            positions=item.audio_positions,
            context=item.audio_context,
            context_mask=item.context_mask,
        )
        audio_target = anoise - a0
    return video, audio, video_target, audio_target, loss_mask


def compute_loss(model: torch.nn.Module, item: TrainItem, draws: StepDraws) -> StepLoss:
    """Forward the transformer and return the masked MSE on velocities (video + audio)."""
    video, audio, video_target, audio_target, loss_mask = build_inputs(item, draws)
    video_pred, audio_pred = model(video=video, audio=audio, perturbations=BatchedPerturbationConfig.empty(1))
    per_token = (video_pred.float() - video_target.float()).pow(2).mean(dim=-1)
    video_loss = (per_token * loss_mask).sum() / loss_mask.sum().clamp(min=1.0)
    total = video_loss
    audio_loss = None
    if audio_pred is not None and audio_target is not None:
        audio_loss = (audio_pred.float() - audio_target.float()).pow(2).mean()
        total = total + audio_loss
    return StepLoss(total=total, video=video_loss, audio=audio_loss)
