"""Reading conformed clips, images and audio into tensors, checking them against the manifest."""
from __future__ import annotations

import av
import numpy as np
import torch

from ltx_core.types import Audio
from ltx_pipelines.utils.media_io import decode_audio_from_file

from ..errors import BadDataset
from ..manifest import Sample


def read_pixels(sample: Sample) -> torch.Tensor:
    """The clip (or image) as [1, 3, F, H, W] float32 in [-1, 1]; exact frame count and size required."""
    frames: list[np.ndarray] = []
    try:
        with av.open(str(sample.media)) as container:
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None:
                raise BadDataset(f"{sample.media.name} (sample {sample.id}) has no video or image stream")
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if len(frames) > sample.frames:
                    break
    except av.error.FFmpegError as exc:
        raise BadDataset(f"{sample.media.name} (sample {sample.id}) cannot be decoded: {exc}") from None
    if len(frames) < sample.frames:
        raise BadDataset(f"{sample.media.name} (sample {sample.id}) has {len(frames)} frames, the manifest says {sample.frames}")
    frames = frames[: sample.frames]
    h, w = frames[0].shape[:2]
    if (w, h) != (sample.width, sample.height):
        raise BadDataset(f"{sample.media.name} (sample {sample.id}) is {w}x{h}, the manifest says {sample.width}x{sample.height}")
    video = torch.from_numpy(np.stack(frames))  # F, H, W, 3 uint8
    video = video.permute(3, 0, 1, 2).unsqueeze(0).float()
    return video / 127.5 - 1.0


def read_audio(sample: Sample) -> Audio:
    """The sample's audio as stereo float32 [1, 2, N], trimmed or zero-padded to the clip's duration."""
    assert sample.audio is not None
    duration = sample.frames / sample.fps
    try:
        audio = decode_audio_from_file(str(sample.audio), torch.device("cpu"))
    except (av.error.FFmpegError, StopIteration) as exc:
        raise BadDataset(f"{sample.audio.name} (sample {sample.id}) cannot be decoded: {exc}") from None
    if audio is None:
        raise BadDataset(f"{sample.audio.name} (sample {sample.id}) has no audio stream")
    wave = audio.waveform.float()
    if wave.shape[1] == 1:
        wave = wave.expand(-1, 2, -1)
    elif wave.shape[1] > 2:
        wave = wave[:, :2]
    want = round(duration * audio.sampling_rate)
    if wave.shape[-1] < want:
        wave = torch.nn.functional.pad(wave, (0, want - wave.shape[-1]))
    return Audio(waveform=wave[..., :want].contiguous(), sampling_rate=audio.sampling_rate)
