"""Validation sampling on the tiny model: real ltx-core classes, real ffmpeg/ffprobe on the mp4."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from kiln_engine.errors import BadSpec
from kiln_engine.models.checkpoint import ModelLoader, locate_model
from kiln_engine.train.lora import add_lora
from kiln_engine.validation import (ValidationModels, ValidationPrompt, ValidationSettings, check_validation_request,
                                    encode_validation_prompts, render_samples, settings_from_spec, validate)
from kiln_engine.validation.images import image_pixels


@pytest.fixture(scope="module")
def loader(tiny_model_dir: Path) -> ModelLoader:
    return ModelLoader(locate_model(tiny_model_dir), torch.device("cpu"), torch.float32)


@pytest.fixture(scope="module")
def models(loader: ModelLoader) -> ValidationModels:
    torch.manual_seed(0)
    peft_model = add_lora(loader.transformer(), 8, with_audio=True)
    with torch.no_grad():  # a "trained" adapter: B is zero after init, which would make LoRA a no-op
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    return ValidationModels(transformer=peft_model, video_decoder=loader.video_decoder(), video_encoder=loader.video_encoder(),
                            audio_decoder=loader.audio_decoder(), vocoder=loader.vocoder())


@pytest.fixture(scope="module")
def encoded(loader: ModelLoader):
    request = {"validation": [{"prompt": "a red ball"}, {"prompt": "a blue cube"}], "validation_negative_prompt": "worst quality"}
    return encode_validation_prompts(loader.text_encoder(), loader.embeddings_processor(), request)


def _probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=codec_type,codec_name,width,height,nb_read_frames,r_frame_rate,sample_rate,channels,duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


SMALL = ValidationSettings(width=64, height=96, frames=17, fps=24, steps=2)


def test_validation_mp4_has_asked_frames_fps_size_and_audio(models, encoded, tmp_path: Path) -> None:
    prompts, negative = encoded
    seen: list[tuple[int, int]] = []
    path = validate(models, prompts, negative, SMALL, tmp_path / "validation.mp4", on_progress=lambda s, t: seen.append((s, t)))
    assert path == tmp_path / "validation.mp4" and path.is_file()
    streams = _probe(path)
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 64, 96)
    assert int(video["nb_read_frames"]) == 2 * 17  # both prompts, in order
    assert video["r_frame_rate"] == "24/1"
    assert audio["codec_name"] == "aac" and audio["channels"] == 2 and int(audio["sample_rate"]) == 24000
    assert abs(float(audio["duration"]) - 2 * 17 / 24) < 0.05
    assert seen[-1] == (4, 4) and len(seen) == 4
    assert not list(tmp_path.glob("*.tmp*"))


def test_video_only_run_writes_no_audio_stream(models, encoded, tmp_path: Path) -> None:
    prompts, negative = encoded
    path = validate(models, prompts[:1], negative, SMALL.with_overrides(generate_audio=False), tmp_path / "v.mp4")
    streams = _probe(path)
    assert "audio" not in streams and int(streams["video"]["nb_read_frames"]) == 17


def test_stg_changes_the_sample_and_sampling_is_deterministic(models, encoded) -> None:
    prompts, negative = encoded
    settings = SMALL.with_overrides(frames=9, width=64, height=64)
    off_a = render_samples(models, prompts[:1], negative, settings.with_overrides(stg_scale=0.0))[0]
    off_b = render_samples(models, prompts[:1], negative, settings.with_overrides(stg_scale=0.0))[0]
    on = render_samples(models, prompts[:1], negative, settings.with_overrides(stg_scale=1.0))[0]
    assert torch.equal(off_a.frames, off_b.frames) and torch.equal(off_a.waveform, off_b.waveform)
    assert not torch.equal(off_a.frames, on.frames)
    assert not torch.equal(off_a.waveform, on.waveform)
    assert on.frames.shape == (9, 64, 64, 3) and on.frames.dtype == torch.uint8


def test_lora_changes_the_sample(models, encoded) -> None:
    prompts, negative = encoded
    settings = SMALL.with_overrides(frames=9, width=64, height=64, stg_scale=0.0)
    with_lora = render_samples(models, prompts[:1], negative, settings)[0]
    with models.transformer.disable_adapter():
        without = render_samples(models, prompts[:1], negative, settings)[0]
    assert not torch.equal(with_lora.frames, without.frames)


def test_image_to_video_uses_the_cover_cropped_image(models, encoded, tmp_path: Path) -> None:
    prompts, negative = encoded
    image = tmp_path / "wide.png"
    Image.new("RGB", (200, 50), (250, 20, 20)).save(image)
    pixels = image_pixels(image, 64, 96)
    assert pixels.shape == (1, 3, 1, 96, 64)
    assert pixels[0, 0].mean() > 0.8 and pixels[0, 1].mean() < -0.7  # red survives resize, crop and the CRF round trip
    settings = SMALL.with_overrides(frames=9, stg_scale=0.0)
    i2v = ValidationPrompt(text=prompts[0].text, encoded=prompts[0].encoded, image=image)
    t2v = render_samples(models, prompts[:1], negative, settings)[0]
    with_image = render_samples(models, [i2v], negative, settings)[0]
    assert with_image.frames.shape == t2v.frames.shape
    assert not torch.equal(with_image.frames, t2v.frames)
    path = validate(models, [i2v], negative, settings, tmp_path / "i2v.mp4")
    assert int(_probe(path)["video"]["nb_read_frames"]) == 9


def test_settings_from_spec_buckets_defaults_and_overrides() -> None:
    spec = SimpleNamespace(request={"validation_resolution": "high", "validation_aspect_ratio": "9:16",
                                    "validation_number_of_frames": 89, "validation_frame_rate": 25, "stg_scale": 1.0,
                                    "generate_audio_in_validation": True},
                           validation_size=None, validation_steps=None, guidance=None, validation_seed=42)
    s = settings_from_spec(spec, run_has_audio=True)
    assert (s.width, s.height, s.frames, s.fps, s.steps) == (704, 1280, 89, 25.0, 30)
    assert (s.video_cfg, s.audio_cfg, s.rescale, s.modality_scale) == (3.0, 7.0, 0.7, 3.0)
    assert s.resolved_stg_blocks(48) == [28] and s.resolved_stg_blocks(2) == [1]
    assert settings_from_spec(spec, run_has_audio=False).generate_audio is False
    spec.validation_size, spec.validation_steps, spec.guidance = [64, 32], 3, {"video_cfg": 4.0, "stg_blocks": [0]}
    s = settings_from_spec(spec, run_has_audio=True)
    assert (s.width, s.height, s.steps, s.video_cfg, s.resolved_stg_blocks(2)) == (64, 32, 3, 4.0, [0])
    with pytest.raises(BadSpec, match="stg_blocks"):
        s.with_overrides(stg_blocks=[5]).resolved_stg_blocks(2)
    spec.guidance = {"cfg": 2}
    with pytest.raises(BadSpec, match="guidance.*cfg"):
        settings_from_spec(spec, run_has_audio=True)
    with pytest.raises(BadSpec, match="8k\\+1"):
        ValidationSettings(width=64, height=64, frames=10, fps=25)


def test_bad_validation_images_are_named(tmp_path: Path) -> None:
    good = tmp_path / "ok.png"
    Image.new("RGB", (8, 8)).save(good)
    (tmp_path / "junk.png").write_text("not an image")
    assert check_validation_request({"validation": [{"prompt": "a", "image_url": f"file://{good}"}]}) == [good]
    assert check_validation_request({"validation": [{"prompt": "a", "image_url": "ok.png"}]}, tmp_path) == [good]
    cases = [
        ([{"prompt": "a", "image_url": str(good)}, {"prompt": "b"}], "every entry"),
        ([{"prompt": "a", "image_url": "https://example.com/x.png"}], r"validation\[0\].*remote"),
        ([{"prompt": "a", "image_url": str(good)}, {"prompt": "b", "image_url": str(tmp_path / "missing.png")}],
         r"validation\[1\].*does not exist"),
        ([{"prompt": "a", "image_url": str(tmp_path / "junk.png")}], "not a readable image"),
        ([{"prompt": " "}], r"validation\[0\]\.prompt"),
    ]
    for entries, message in cases:
        with pytest.raises(BadSpec, match=message):
            check_validation_request({"validation": entries})
