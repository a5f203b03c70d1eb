"""Training: the loss goes down, first-frame conditioning, LoRA targets, resume, SIGTERM."""
from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from helpers import parse_events, run_in_process, spec_dict, start_engine
from kiln_engine.train.batch import prepare_item
from kiln_engine.train.objective import StepDraws, build_inputs, compute_loss


def _fixed_loss(model: torch.nn.Module, items: list) -> float:
    gen = torch.Generator().manual_seed(123)
    total = 0.0
    with torch.no_grad():
        for item in items:
            for sigma in (0.3, 0.6, 0.9):
                draws = StepDraws(torch.tensor([sigma]), torch.randn(item.video_tokens.shape, generator=gen),
                                  torch.randn(item.audio_tokens.shape, generator=gen), False)
                total += compute_loss(model, item, draws).total.item()
    return total


def test_thirty_steps_lower_the_loss_on_a_fixed_batch(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    spec = spec_dict(av_dataset, tmp_path / "out", engine_cache,
                     request={"number_of_steps": 30, "learning_rate": 3e-3, "first_frame_conditioning_p": 0.0})
    ctx, events = run_in_process(spec)
    assert ctx.step == 30 and ctx.with_audio
    progress = [e for e in events if e["event"] == "progress" and e["phase"] == "training"]
    assert [e["step"] for e in progress] == list(range(1, 31))
    assert all(e["loss"] > 0 and e["lr"] > 0 and e["seconds_per_step"] > 0 for e in progress)
    items = [prepare_item(s, ctx.device, ctx.dtype, True) for s in ctx.samples]
    after = _fixed_loss(ctx.model, items)
    with ctx.peft_model.disable_adapter():
        before = _fixed_loss(ctx.model, items)
    assert after < before * 0.97, (before, after)
    assert [e["name"] for e in events if e["event"] == "phase"] == ["encoding", "training", "exporting"]


class _Echo(torch.nn.Module):
    """Returns fixed predictions so the loss's dependence on each token can be probed."""

    def __init__(self, video: torch.Tensor, audio: torch.Tensor) -> None:
        super().__init__()
        self.video, self.audio = video, audio

    def forward(self, video, audio, perturbations):  # noqa: ANN001, ARG002
        return self.video, self.audio


def _encoded(av_dataset: Path, engine_cache: Path, tiny_model_dir: Path, with_audio: bool = True) -> list:
    from kiln_engine.encode.cache import TensorCache
    from kiln_engine.encode.encoder import encode_dataset
    from kiln_engine.manifest import read_manifest
    from kiln_engine.models.checkpoint import ModelLoader, locate_model

    loader = ModelLoader(locate_model(tiny_model_dir), torch.device("cpu"), torch.float32)
    return encode_dataset(read_manifest(av_dataset), loader, TensorCache(engine_cache), "tiny-v1-seed0", with_audio)[0]


def test_first_frame_conditioning_leaves_frame_zero_out_of_the_loss(av_dataset: Path, engine_cache: Path, tiny_model_dir: Path) -> None:
    item = prepare_item(_encoded(av_dataset, engine_cache, tiny_model_dir)[0], torch.device("cpu"), torch.float32, True)
    n = item.first_frame_tokens
    assert 0 < n < item.video_tokens.shape[1]
    gen = torch.Generator().manual_seed(0)
    draws = StepDraws(torch.tensor([0.7]), torch.randn(item.video_tokens.shape, generator=gen),
                      torch.randn(item.audio_tokens.shape, generator=gen), True)
    video, audio, _, _, mask, _ = build_inputs(item, draws)
    assert torch.equal(video.latent[:, :n], item.video_tokens[:, :n])  # clean first frame
    assert torch.all(video.timesteps[:, :n] == 0) and torch.all(video.timesteps[:, n:] == 0.7)
    assert torch.all(mask[:, :n] == 0) and torch.all(mask[:, n:] == 1)
    assert torch.all(audio.timesteps == 0.7)  # audio is never conditioned
    pred = torch.randn(item.video_tokens.shape, generator=gen)
    apred = torch.randn(item.audio_tokens.shape, generator=gen)
    changed_first = pred.clone()
    changed_first[:, :n] += 5.0
    changed_rest = pred.clone()
    changed_rest[:, n:] += 5.0
    base = compute_loss(_Echo(pred, apred), item, draws).total
    assert torch.equal(compute_loss(_Echo(changed_first, apred), item, draws).total, base)
    assert compute_loss(_Echo(changed_rest, apred), item, draws).total > base
    # Without conditioning the first frame counts again.
    draws.condition_first_frame = False
    assert compute_loss(_Echo(changed_first, apred), item, draws).total != compute_loss(_Echo(pred, apred), item, draws).total


def test_audio_on_off_changes_which_modules_get_lora(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    from kiln_engine.train.lora import lora_modules

    # Audio on: a full run; audio off: the same run with with_audio false.
    on, _ = run_in_process(spec_dict(av_dataset, tmp_path / "on", engine_cache, request={"number_of_steps": 1, "with_audio": True}))
    off, _ = run_in_process(spec_dict(av_dataset, tmp_path / "off", engine_cache, request={"number_of_steps": 1, "with_audio": False}))
    on_mods, off_mods = set(lora_modules(on.model)), set(lora_modules(off.model))
    assert off_mods < on_mods
    attn = lambda mods: {m.split(".")[2] for m in mods}  # noqa: E731
    assert attn(off_mods) == {"attn1", "attn2"}
    assert attn(on_mods) == {"attn1", "attn2", "audio_attn1", "audio_attn2", "audio_to_video_attn", "video_to_audio_attn"}
    assert {m.rsplit(".", 1)[-1] if not m.endswith("to_out.0") else "to_out.0" for m in on_mods} == {"to_q", "to_k", "to_v", "to_out.0"}
    assert len(on_mods) == 2 * 6 * 4 and len(off_mods) == 2 * 2 * 4
    assert off.samples[0].audio_latent is None and on.samples[0].audio_latent is not None


def test_resume_equals_uninterrupted(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    request = {"number_of_steps": 6, "learning_rate": 2e-3}
    full, _ = run_in_process(spec_dict(av_dataset, tmp_path / "full", engine_cache, request=request, checkpoint_interval=0))
    first, events = run_in_process(spec_dict(av_dataset, tmp_path / "part", engine_cache, request=request, checkpoint_interval=3))
    ckpt = tmp_path / "part" / "checkpoints" / "step_000003"
    assert any(e["event"] == "checkpoint" and e["path"] == str(ckpt) for e in events)
    resumed, events = run_in_process(spec_dict(av_dataset, tmp_path / "resumed", engine_cache, request=request, resume_from=str(ckpt)))
    steps = [e["step"] for e in events if e["event"] == "progress" and e["phase"] == "training"]
    assert steps == [4, 5, 6]
    assert set(full.lora) == set(resumed.lora)
    for key in full.lora:
        torch.testing.assert_close(resumed.lora[key], full.lora[key], rtol=1e-5, atol=1e-6)
    # And training did move the weights (lora_B starts at zero).
    assert any(v.abs().sum() > 0 for k, v in full.lora.items() if "lora_B" in k)


def test_resume_with_other_settings_is_refused(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    from kiln_engine.errors import BadCheckpoint

    run_in_process(spec_dict(av_dataset, tmp_path / "a", engine_cache, request={"number_of_steps": 2}, checkpoint_interval=1))
    with pytest.raises(BadCheckpoint, match="rank"):
        run_in_process(spec_dict(av_dataset, tmp_path / "b", engine_cache, request={"number_of_steps": 4, "rank": 16},
                                 resume_from=str(tmp_path / "a" / "checkpoints")))


def test_sigterm_saves_a_checkpoint_and_exits_75(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    spec = spec_dict(av_dataset, tmp_path / "out", engine_cache, request={"number_of_steps": 100000})
    proc = start_engine(spec, tmp_path)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if '"phase":"training","step":3,' in line:
            proc.send_signal(signal.SIGTERM)
            break
    out, err = proc.communicate(timeout=120)
    events = parse_events("".join(lines) + out)
    assert proc.returncode == 75, err[-2000:]
    ckpts = [e for e in events if e["event"] == "checkpoint"]
    assert len(ckpts) == 1 and ckpts[0]["step"] >= 3
    assert events[-1]["event"] == "error" and events[-1]["type"] == "Interrupted"
    path = Path(ckpts[0]["path"])
    weights = load_file(str(path / "lora.safetensors"))
    assert weights and all(k.startswith("diffusion_model.transformer_blocks.") for k in weights)
    assert not any(e["event"] == "done" for e in events)


def test_fp8_quantised_base_trains(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    ctx, events = run_in_process(spec_dict(av_dataset, tmp_path / "out", engine_cache, request={"number_of_steps": 3},
                                           quantization="fp8"))
    base = ctx.model.transformer_blocks[0].attn1.to_q.base_layer.weight
    assert base.dtype == torch.float8_e4m3fn
    losses = [e["loss"] for e in events if e["event"] == "progress" and e["phase"] == "training"]
    assert len(losses) == 3 and all(0 < loss < 100 for loss in losses)
    assert any(v.abs().sum() > 0 for k, v in ctx.lora.items() if "lora_B" in k)


def test_int8_is_refused_with_bad_spec(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    from kiln_engine.errors import BadSpec

    with pytest.raises(BadSpec, match="quantization 'int8'"):
        run_in_process(spec_dict(av_dataset, tmp_path / "out", engine_cache, quantization="int8"))


def test_bf16_weights_with_autocast_train(av_dataset: Path, engine_cache: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    """The GPU recipe (bf16 base, fp32 LoRA, bf16 autocast, checkpointing), exercised on the CPU."""
    from kiln_engine.dist import DistInfo
    from kiln_engine.events import NullSink
    from kiln_engine.models.checkpoint import ModelLoader, locate_model
    from kiln_engine.train.lora import add_lora, lora_state_dict
    from kiln_engine.train.loop import TrainConfig, Trainer

    from kiln_engine.encode.cache import TensorCache
    from kiln_engine.encode.encoder import encode_dataset
    from kiln_engine.manifest import read_manifest

    encoded, _ = encode_dataset(read_manifest(av_dataset), ModelLoader(locate_model(tiny_model_dir), torch.device("cpu"), torch.float32),
                                TensorCache(engine_cache), "bf16-test", True)
    loader = ModelLoader(locate_model(tiny_model_dir), torch.device("cpu"), torch.bfloat16)
    torch.manual_seed(0)
    model = add_lora(loader.transformer(), 8, True).get_base_model()
    model.set_gradient_checkpointing(True)
    assert model.transformer_blocks[0].attn1.to_q.base_layer.weight.dtype == torch.bfloat16
    items = [prepare_item(s, torch.device("cpu"), torch.bfloat16, True) for s in encoded]
    assert items[0].video_positions.dtype == torch.float32
    trainer = Trainer(model, items, TrainConfig(steps=2, learning_rate=1e-3, first_frame_p=0.5, seed=1, checkpoint_interval=0,
                                                progress_interval=1), torch.device("cpu"), tmp_path / "ck", NullSink(),
                      DistInfo(0, 1, 0), autocast_dtype=torch.bfloat16)
    result = trainer.run()
    assert result.step == 2 and result.last_loss is not None and 0 < result.last_loss < 100
    lora = lora_state_dict(model)
    assert all(v.dtype == torch.float32 for v in lora.values())
    assert any(v.abs().sum() > 0 for k, v in lora.items() if "lora_B" in k)


def test_clips_of_different_shapes_train_in_one_run(engine_cache: Path, tmp_path: Path) -> None:
    import json as _json

    from conftest import make_clip

    folder = tmp_path / "mixed"
    folder.mkdir()
    lines = [make_clip(folder, 0, width=64, height=64, frames=9), make_clip(folder, 1, width=96, height=64, frames=17, fps=24)]
    (folder / "manifest.jsonl").write_text("".join(_json.dumps(line) + "\n" for line in lines))
    ctx, events = run_in_process(spec_dict(folder / "manifest.jsonl", tmp_path / "out", engine_cache, request={"number_of_steps": 4}))
    shapes = sorted(tuple(s.video_latent.shape) for s in ctx.samples)
    assert shapes == [(16, 2, 2, 2), (16, 3, 2, 3)]
    assert ctx.samples[0].audio_latent.shape[1] != ctx.samples[1].audio_latent.shape[1]  # 0.36 s vs 0.71 s of audio
    losses = [e["loss"] for e in events if e["event"] == "progress" and e["phase"] == "training"]
    assert len(losses) == 4 and all(0 < loss < 100 for loss in losses)


def test_items_stay_on_the_host_only_for_cuda_above_the_limit(av_dataset: Path, engine_cache: Path, tiny_model_dir: Path) -> None:
    from kiln_engine.train.batch import place_items

    items = [prepare_item(s, torch.device("cpu"), torch.float32, True) for s in _encoded(av_dataset, engine_cache, tiny_model_dir)]
    size = sum(i.nbytes() for i in items)
    assert size > 0
    placed, resident = place_items(items, torch.device("cpu"), limit=0)
    assert resident and placed[0].video_tokens.device.type == "cpu"
    moved = items[0].to(torch.device("cpu"))
    assert torch.equal(moved.video_tokens, items[0].video_tokens) and moved.first_frame_tokens == items[0].first_frame_tokens
    if torch.cuda.is_available():
        placed, resident = place_items(items, torch.device("cuda"), limit=size - 1)
        assert not resident and placed[0].video_tokens.is_pinned()
        placed, resident = place_items(items, torch.device("cuda"), limit=size)
        assert resident and placed[0].video_tokens.is_cuda
