"""Training items: one sample's tokens, positions and text context, prepared once before training."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from ltx_core.components.patchifiers import AudioPatchifier, VideoLatentPatchifier, get_pixel_coords
from ltx_core.types import VIDEO_SCALE_FACTORS, AudioLatentShape, VideoLatentShape

from ..encode.encoder import EncodedSample


@dataclass
class TrainItem:
    """Everything a step needs for one sample, already patchified and on the device."""

    video_tokens: torch.Tensor  # [1, T, C]
    video_positions: torch.Tensor  # [1, 3, T, 2]
    first_frame_tokens: int  # tokens of latent frame 0 (0 for a single-frame sample)
    video_context: torch.Tensor  # [1, L, Dv]
    audio_context: torch.Tensor  # [1, L, Da]
    context_mask: torch.Tensor  # [1, L]
    audio_tokens: torch.Tensor | None = None  # [1, Ta, Ca]
    audio_positions: torch.Tensor | None = None  # [1, 1, Ta, 2]
    # Per-token noise masks [1, T, 1] (1 = noised and in the loss), built once: plain and first-frame-clean.
    noise_mask: torch.Tensor | None = None
    noise_mask_first_clean: torch.Tensor | None = None
    loss_count: float = 0.0  # noised video tokens x channels, plain
    loss_count_first_clean: float = 0.0

    def nbytes(self) -> int:
        """Bytes held by the item's tensors."""
        return sum(t.numel() * t.element_size() for t in self._tensors())

    def _tensors(self) -> list[torch.Tensor]:
        return [v for f in fields(self) if isinstance(v := getattr(self, f.name), torch.Tensor)]

    def to(self, device: torch.device, non_blocking: bool = False) -> "TrainItem":
        """A copy on `device` (from pinned host memory the copy is asynchronous)."""
        moved = {f.name: v.to(device, non_blocking=non_blocking) for f in fields(self)
                 if isinstance(v := getattr(self, f.name), torch.Tensor)}
        return replace(self, **moved)

    def pin(self) -> "TrainItem":
        """A copy in page-locked host memory, for asynchronous copies to the GPU."""
        return replace(self, **{f.name: v.pin_memory() for f in fields(self)
                                if isinstance(v := getattr(self, f.name), torch.Tensor)})


#: Above this many bytes of prepared items, they stay in pinned host memory and each step copies
#: its item to the GPU (asynchronously) instead of keeping the whole dataset in device memory.
DEVICE_RESIDENT_LIMIT = 2 * 1024**3


def place_items(items: list[TrainItem], device: torch.device, limit: int = DEVICE_RESIDENT_LIMIT) -> tuple[list[TrainItem], bool]:
    """Items where training reads them: on `device` when they fit `limit`, else pinned on the host.

    Returns the items and whether they are resident on `device`.
    """
    if device.type != "cuda" or sum(i.nbytes() for i in items) <= limit:
        return [i.to(device) for i in items], True
    return [i.pin() for i in items], False


def video_positions(shape: VideoLatentShape, fps: float, device: torch.device) -> torch.Tensor:
    """Pixel-space [start, end) bounds per token, time in seconds (as ltx-core's pipelines build them)."""
    grid = VideoLatentPatchifier(patch_size=1).get_patch_grid_bounds(shape, device=device)
    pixels = get_pixel_coords(grid, VIDEO_SCALE_FACTORS, causal_fix=True).float()
    pixels[:, 0, ...] = pixels[:, 0, ...] / fps
    return pixels


def audio_positions(shape: AudioLatentShape, device: torch.device) -> torch.Tensor:
    """Per-token [start, end) in seconds, on the same axis as the video's."""
    return AudioPatchifier(patch_size=1).get_patch_grid_bounds(shape, device=device)


def prepare_item(sample: EncodedSample, device: torch.device, dtype: torch.dtype, with_audio: bool) -> TrainItem:
    """Patchify and move one encoded sample to the device, once, before training."""
    latent = sample.video_latent.unsqueeze(0)
    shape = VideoLatentShape.from_torch_shape(latent.shape)
    tokens = VideoLatentPatchifier(patch_size=1).patchify(latent)
    item = TrainItem(
        video_tokens=tokens.to(device=device, dtype=dtype),
        # Positions stay float32 even under bf16: pixel coordinates up to ~1000 lose whole units in bf16.
        video_positions=video_positions(shape, sample.fps, device),
        first_frame_tokens=shape.height * shape.width if shape.frames > 1 else 0,
        video_context=sample.video_context.unsqueeze(0).to(device=device, dtype=dtype),
        audio_context=sample.audio_context.unsqueeze(0).to(device=device, dtype=dtype),
        context_mask=sample.context_mask.unsqueeze(0).to(device=device),
    )
    n_tokens, channels = tokens.shape[1], tokens.shape[2]
    item.noise_mask = torch.ones((1, n_tokens, 1), device=device, dtype=dtype)
    item.noise_mask_first_clean = item.noise_mask.clone()
    item.noise_mask_first_clean[:, : item.first_frame_tokens] = 0.0
    item.loss_count = float(n_tokens * channels)
    item.loss_count_first_clean = float(max(n_tokens - item.first_frame_tokens, 1) * channels)
    if with_audio and sample.audio_latent is not None:
        alatent = sample.audio_latent.unsqueeze(0)
        ashape = AudioLatentShape.from_torch_shape(alatent.shape)
        item.audio_tokens = AudioPatchifier(patch_size=1).patchify(alatent).to(device=device, dtype=dtype)
        item.audio_positions = audio_positions(ashape, device)
    return item
