"""The tiny model is written as a real checkpoint folder and loads back through the real loader."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors
import torch
from safetensors.torch import load_file

from kiln_engine.errors import ModelNotFound
from kiln_engine.models.checkpoint import ModelLoader, locate_model
from kiln_engine.models.tiny import TINY_FILE, ensure_tiny_model


def test_tiny_checkpoint_layout_matches_ltx23(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / TINY_FILE
    with safetensors.safe_open(str(path), framework="pt") as f:
        keys = list(f.keys())
        config = json.loads(f.metadata()["config"])
    assert config["transformer"]["num_layers"] == 2
    assert config["transformer"]["cross_attention_adaln"] is True
    for prefix in ("model.diffusion_model.transformer_blocks.", "vae.encoder.", "vae.decoder.", "vae.per_channel_statistics.",
                   "audio_vae.encoder.", "audio_vae.decoder.", "vocoder.", "text_embedding_projection.video_aggregate_embed.",
                   "model.diffusion_model.video_embeddings_connector."):
        assert any(k.startswith(prefix) for k in keys), prefix
    assert (tiny_model_dir / "gemma" / "model.safetensors").is_file()


def test_tiny_round_trip_through_loader(tiny_model_dir: Path) -> None:
    files = locate_model(tiny_model_dir)
    loader = ModelLoader(files, torch.device("cpu"), torch.float32)
    transformer = loader.transformer()
    stored = load_file(str(files.ltx_file))
    loaded = transformer.state_dict()
    # Every transformer tensor comes from the file, bit for bit (bf16 -> fp32 is exact).
    for key, value in loaded.items():
        assert torch.equal(value, stored["model.diffusion_model." + key].float()), key
    # scale-shift tables were initialised (torch.empty in ltx-core), and are not all zero.
    assert transformer.scale_shift_table.abs().sum() > 0
    for part in ("video_encoder", "video_decoder", "audio_encoder", "audio_decoder", "vocoder", "embeddings_processor", "text_encoder"):
        model = getattr(loader, part)()
        assert all(t.device.type == "cpu" for t in model.state_dict().values()), part
    stats = loader.video_encoder().per_channel_statistics.get_buffer("std-of-means")
    assert torch.equal(stats, stored["vae.per_channel_statistics.std-of-means"].float())


def test_tiny_model_is_cached_and_deterministic(engine_cache: Path, tmp_path: Path) -> None:
    first = ensure_tiny_model(engine_cache, 0)
    mtime = (first / TINY_FILE).stat().st_mtime_ns
    assert ensure_tiny_model(engine_cache, 0) == first
    assert (first / TINY_FILE).stat().st_mtime_ns == mtime
    other = ensure_tiny_model(tmp_path, 0)
    a, b = load_file(str(first / TINY_FILE)), load_file(str(other / TINY_FILE))
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = load_file(str(ensure_tiny_model(tmp_path, 1) / TINY_FILE))
    assert not torch.equal(a["model.diffusion_model.proj_out.weight"], c["model.diffusion_model.proj_out.weight"])


def test_missing_model_folder_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        locate_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="no LTX-2.3 checkpoint"):
        locate_model(tmp_path / "empty")


def test_locate_prefers_the_dev_transformer_and_ignores_files_without_config(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from safetensors.torch import save_file

    folder = tmp_path / "release"
    shutil.copytree(tiny_model_dir, folder)
    original = folder / TINY_FILE
    shutil.copy(original, folder / "ltx-2.3-22b-distilled.safetensors")
    original.rename(folder / "ltx-2.3-22b-dev.safetensors")
    save_file({"x": torch.zeros(1)}, str(folder / "a-upscaler.safetensors"))
    files = locate_model(folder)
    assert files.ltx_file.name == "ltx-2.3-22b-dev.safetensors"
    assert files.gemma_root == folder / "gemma"
