"""Encoding: cache hits and misses, the shapes the encoders give, and media checks."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from conftest import write_dataset
from kiln_engine.encode.cache import TensorCache
from kiln_engine.encode.encoder import encode_dataset
from kiln_engine.errors import BadDataset
from kiln_engine.manifest import read_manifest
from kiln_engine.models.checkpoint import ModelLoader, locate_model


@pytest.fixture()
def loader(tiny_model_dir: Path) -> ModelLoader:
    return ModelLoader(locate_model(tiny_model_dir), torch.device("cpu"), torch.float32)


def test_cache_miss_then_hit_then_partial(av_dataset: Path, loader: ModelLoader, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(av_dataset.parent, data)
    manifest = data / "manifest.jsonl"
    cache = TensorCache(tmp_path / "cache")
    samples = read_manifest(manifest)
    first, stats = encode_dataset(samples, loader, cache, "m", True)
    assert stats.misses == {"video": 2, "audio": 2, "text": 2} and sum(stats.hits.values()) == 0
    # 64x64x9 -> 16 x 2 x 2 x 2 latents; 9 frames at 25 fps -> audio latents on a 25/s grid.
    assert first[0].video_latent.shape == (16, 2, 2, 2)
    assert first[0].audio_latent is not None and first[0].audio_latent.shape[0] == 2 and first[0].audio_latent.shape[2] == 16
    assert first[0].video_context.shape == (128, 32) and first[0].audio_context.shape == (128, 16)
    again, stats = encode_dataset(samples, loader, cache, "m", True)
    assert stats.misses == {"video": 0, "audio": 0, "text": 0} and stats.hits == {"video": 2, "audio": 2, "text": 2}
    assert torch.equal(again[1].video_latent, first[1].video_latent)
    # A changed caption re-encodes only that caption; a different model id misses everything.
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    lines[0]["caption"] = "a different caption"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    _, stats = encode_dataset(read_manifest(manifest), loader, cache, "m", True)
    assert stats.misses == {"video": 0, "audio": 0, "text": 1}
    _, stats = encode_dataset(samples, loader, cache, "other-model", False)
    assert stats.misses == {"video": 2, "audio": 0, "text": 2}
    # Different clips give different latents (the encoder sees the pixels).
    assert not torch.equal(first[0].video_latent, first[1].video_latent)


def test_images_encode_to_one_latent_frame(tmp_path: Path, loader: ModelLoader) -> None:
    import subprocess

    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64", "-frames:v", "1", str(tmp_path / "0000.png")], check=True)
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"id": "0000", "media": "0000.png", "audio": None, "caption": "an image",
                                                          "width": 96, "height": 64, "frames": 1, "fps": 25}) + "\n")
    encoded, _ = encode_dataset(read_manifest(tmp_path / "manifest.jsonl"), loader, TensorCache(tmp_path / "c"), "m", False)
    assert encoded[0].video_latent.shape == (16, 1, 2, 3)


def test_clip_with_wrong_frame_count_or_size_is_bad_dataset(tmp_path: Path, loader: ModelLoader) -> None:
    manifest = write_dataset(tmp_path / "d", 1, frames=9, audio=False)
    line = json.loads(manifest.read_text())
    for field, value, message in (("frames", 17, "has 9 frames"), ("width", 96, "is 64x64")):
        bad = dict(line, **{field: value})
        manifest.write_text(json.dumps(bad) + "\n")
        with pytest.raises(BadDataset, match=message):
            encode_dataset(read_manifest(manifest), loader, TensorCache(tmp_path / "c"), "m", False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "has no samples"),
        ("{not json\n", "line 1 is not JSON"),
        ('{"id": "a", "media": "0000.mp4", "caption": "x", "width": 64, "height": 64}\n', "'frames' is missing"),
        ('{"id": "a", "media": "0000.mp4", "caption": "x", "width": 60, "height": 64, "frames": 9}\n', "multiples of 32"),
        ('{"id": "a", "media": "0000.mp4", "caption": "x", "width": 64, "height": 64, "frames": 10}\n', "8k\\+1"),
        ('{"id": "a", "media": "nope.mp4", "caption": "x", "width": 64, "height": 64, "frames": 9}\n', "nope.mp4 does not exist"),
        ('{"id": "a", "media": "../x.mp4", "caption": "x", "width": 64, "height": 64, "frames": 9}\n', "inside the dataset"),
        ('{"id": "a", "media": "0000.mp4", "audio": "0000.wav", "caption": "x", "width": 64, "height": 64, "frames": 9}\n', "0000.wav does not exist"),
    ],
)
def test_bad_manifest_lines_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "0000.mp4").write_bytes(b"x")
    (tmp_path / "manifest.jsonl").write_text(content)
    with pytest.raises(BadDataset, match=message):
        read_manifest(tmp_path / "manifest.jsonl")
