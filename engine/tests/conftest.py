"""Shared fixtures: a session-wide cache folder (tiny model written once) and tiny ffmpeg datasets."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def engine_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the whole session, so the tiny model is written once."""
    return tmp_path_factory.mktemp("engine-cache")


@pytest.fixture(scope="session")
def tiny_model_dir(engine_cache: Path) -> Path:
    """The tiny model folder for seed 0."""
    from kiln_engine.models.tiny import ensure_tiny_model

    return ensure_tiny_model(engine_cache, 0)


def make_clip(folder: Path, index: int, *, width: int = 64, height: int = 64, frames: int = 9, fps: int = 25,
              audio: bool = True, pattern: str = "testsrc2", freq: int = 440) -> dict:
    """Write NNNN.mp4 (+ NNNN.wav) with ffmpeg's lavfi sources; return its manifest line."""
    name = f"{index:04d}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=size={width}x{height}:rate={fps}",
         "-frames:v", str(frames), "-pix_fmt", "yuv420p", "-c:v", "libx264", str(folder / f"{name}.mp4")],
        check=True,
    )
    entry = {"id": name, "media": f"{name}.mp4", "audio": None, "caption": f"clip {index} of a test pattern",
             "width": width, "height": height, "frames": frames, "fps": fps, "source": "test", "scene": 0, "window": 0}
    if audio:
        duration = frames / fps
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000",
             "-t", f"{duration:.6f}", "-ac", "2", "-c:a", "pcm_s16le", str(folder / f"{name}.wav")],
            check=True,
        )
        entry["audio"] = f"{name}.wav"
    return entry


def write_dataset(folder: Path, count: int = 2, **kwargs) -> Path:
    """A dataset folder with `count` clips and its manifest.jsonl; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    patterns = ["testsrc2", "smptebars", "rgbtestsrc", "mandelbrot"]
    lines = [make_clip(folder, i, pattern=patterns[i % len(patterns)], freq=220 * (i + 1), **kwargs) for i in range(count)]
    manifest = folder / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return manifest


@pytest.fixture(scope="session")
def av_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 64x64, 9-frame clips with stereo 48 kHz audio; the manifest path."""
    return write_dataset(tmp_path_factory.mktemp("av-dataset"), 2)
