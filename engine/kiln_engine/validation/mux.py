"""Writes validation samples, one after another, into a single H.264 + AAC mp4."""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from .sampler import Sample


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def write_mp4(samples: list[Sample], fps: float, path: Path) -> Path:
    """One mp4 playing `samples` in order (libx264 yuv420p CRF 18; AAC stereo when any sample has audio).

    Each sample's audio is cut or padded with silence to exactly its video's duration, so the
    samples stay in sync end to end. Written to a temporary name and renamed.
    """
    if not samples:
        raise ValueError("no samples to write")
    height, width = int(samples[0].frames.shape[1]), int(samples[0].frames.shape[2])
    rate = next((s.sample_rate for s in samples if s.sample_rate), None)
    tmp = path.with_name(path.name + ".tmp.mp4")
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(tmp), mode="w")
    try:
        fps_q = _fps_fraction(fps)
        stream = container.add_stream("libx264", rate=fps_q, options={"crf": "18", "preset": "medium"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = 1 / fps_q
        audio_stream = None
        if rate is not None:
            audio_stream = container.add_stream("aac", rate=rate)
            audio_stream.codec_context.layout = "stereo"
            audio_stream.codec_context.time_base = Fraction(1, rate)
        index = 0
        for s in samples:
            for frame in s.frames.numpy():
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                vf.pts = index
                index += 1
                for packet in stream.encode(vf):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio_stream is not None:
            _write_audio(container, audio_stream, samples, fps, rate)
    finally:
        container.close()
    os.replace(tmp, path)
    return path


def _write_audio(container: av.container.OutputContainer, stream: av.AudioStream, samples: list[Sample], fps: float, rate: int) -> None:
    parts = []
    for s in samples:
        n = int(round(s.frames.shape[0] / fps * rate))
        wave = torch.zeros(2, n) if s.waveform is None else s.waveform
        if s.sample_rate not in (None, rate):
            raise ValueError(f"samples have different audio rates ({s.sample_rate} vs {rate})")
        wave = wave[:, :n]
        if wave.shape[1] < n:
            wave = torch.nn.functional.pad(wave, (0, n - wave.shape[1]))
        parts.append(wave)
    pcm = torch.cat(parts, dim=1).clamp(-1, 1).numpy().astype(np.float32)
    frame_size = stream.codec_context.frame_size or 1024
    pts = 0
    for start in range(0, pcm.shape[1], frame_size):
        chunk = np.ascontiguousarray(pcm[:, start : start + frame_size])
        af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        af.sample_rate = rate
        af.pts = pts
        pts += chunk.shape[1]
        for packet in stream.encode(af):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
