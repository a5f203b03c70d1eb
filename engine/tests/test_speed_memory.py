"""The memory estimate and the choice of settings, with made-up free memory sizes (pure functions)."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiln_engine.speed.apply import checkpoint_mode, plan_memory, shape_from_checkpoint
from kiln_engine.speed.memory import GIB, JobShape, Setting, choose_setting, estimate_bytes
from kiln_engine.speed.settings import SpeedSettings

# LTX-2.3 as PERFORMANCE.md measured it: 18.99 B parameters of which 213.9 M LoRA at rank 32.
FULL = JobShape(base_params=18_776_000_000, lora_params=213_900_000, blocks=48, width=4096, video_tokens=6912,
                audio_tokens=89)


def test_estimate_tracks_the_measured_h100_peaks() -> None:
    measured = {3072: 40.5, 6912: 43.7, 9216: 45.6, 12288: 48.2}  # GiB, bf16, checkpointing, rank 32
    for tokens, gib in measured.items():
        shape = JobShape(**{**FULL.__dict__, "video_tokens": tokens})
        est = estimate_bytes(shape, Setting(None, "all")) / GIB
        assert abs(est - gib) < 1.0, (tokens, est, gib)


def test_estimate_orders_settings() -> None:
    est = {s: estimate_bytes(FULL, Setting(q, s)) for q in (None,) for s in ("none", "every_k", "all")}
    assert est["none"] > est["every_k"] > est["all"]
    assert estimate_bytes(FULL, Setting("fp8", "all")) < est["all"] - 15 * GIB  # ~18.8 GB of weights saved
    bigger = JobShape(**{**FULL.__dict__, "lora_params": 4 * FULL.lora_params})
    assert estimate_bytes(bigger, Setting(None, "all")) > est["all"]


@pytest.mark.parametrize("free_gib, expected", [
    (141, Setting(None, "none")),      # H200: everything fits, no recomputation
    (80, Setting(None, "every_k")),    # H100: half the blocks recomputed
    (48, Setting(None, "all")),        # L40S / A6000: bf16 with full checkpointing
    (32, Setting("fp8", "all")),       # 32 GB card: fp8 base
])
def test_choice_for_gpu_sizes(free_gib: int, expected: Setting) -> None:
    choice = choose_setting(FULL, free_gib * GIB)
    assert choice.fits and choice.setting == expected, choice.log_line()
    assert choice.setting.label() in choice.log_line()


def test_nothing_fits_says_so() -> None:
    choice = choose_setting(FULL, 16 * GIB)
    assert not choice.fits and choice.setting == Setting("fp8", "all")
    assert "does NOT fit" in choice.log_line()


def test_fixed_settings_are_respected() -> None:
    choice = choose_setting(FULL, 141 * GIB, fixed_checkpoint="all")
    assert choice.setting == Setting(None, "all")
    choice = choose_setting(FULL, 32 * GIB, allow_fp8=False)
    assert choice.setting.quantization is None and not choice.fits
    # Without auto_fit the spec's own setting is estimated, never changed.
    plan = plan_memory(SpeedSettings(), FULL, 32 * GIB, None, None)
    assert plan.setting == Setting(None, "all") and not plan.fits
    plan = plan_memory(SpeedSettings(auto_fit=True), FULL, 32 * GIB, None, None)
    assert plan.setting == Setting("fp8", "all") and plan.fits
    plan = plan_memory(SpeedSettings(auto_fit=True), FULL, 141 * GIB, None, True)
    assert plan.setting == Setting(None, "all")  # gradient_checkpointing: true pins it


def test_checkpoint_mode_precedence() -> None:
    assert checkpoint_mode(SpeedSettings(), default_on=True) == "all"
    assert checkpoint_mode(SpeedSettings(), default_on=False) == "none"
    assert checkpoint_mode(SpeedSettings(), default_on=True, planned="every_k") == "every_k"
    assert checkpoint_mode(SpeedSettings(checkpoint="none"), default_on=True, planned="every_k") == "none"


def test_shape_from_the_tiny_checkpoint_header(tiny_model_dir: Path) -> None:
    ltx = next(tiny_model_dir.glob("*.safetensors"))
    video = shape_from_checkpoint(ltx, 8, with_audio=False, video_tokens=64, audio_tokens=0)
    both = shape_from_checkpoint(ltx, 8, with_audio=True, video_tokens=64, audio_tokens=9)
    assert video.blocks == both.blocks == 2 and video.width == 32
    # video: 2 blocks x 2 attentions x 4 projections of 32 -> 32 at rank 8
    assert video.lora_params == 2 * 2 * 4 * 8 * (32 + 32)
    assert both.lora_params == 17408  # what peft creates on the tiny model with audio (counted in test_speed_lora)
