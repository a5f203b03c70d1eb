"""The sigma sampler and the learning-rate schedule match the official trainer's definitions."""
from __future__ import annotations

import math

import pytest
import torch

from kiln_engine.train.schedule import lr_factor
from kiln_engine.train.timesteps import sample_sigma, shift_for_tokens


def test_shift_is_linear_in_tokens_and_capped() -> None:
    assert shift_for_tokens(1024) == pytest.approx(0.95)
    assert shift_for_tokens(4096) == pytest.approx(2.05)
    assert shift_for_tokens(2560) == pytest.approx(1.5)
    assert shift_for_tokens(6912) == pytest.approx(2.05)  # capped: beyond it the stretch divides by ~0


def test_shifted_logit_normal_stays_in_range_and_moves_with_tokens() -> None:
    gen = torch.Generator().manual_seed(0)
    small = sample_sigma("shifted_logit_normal", 20000, 256, gen)
    large = sample_sigma("shifted_logit_normal", 20000, 6912, gen)
    for s in (small, large):
        assert s.min() >= 0 and s.max() <= 1 and torch.isfinite(s).all()
    assert large.mean() > small.mean() + 0.05  # more tokens -> noisier training on average
    # The reflection keeps values off zero except for the uniform share (which starts at eps).
    assert (small < 1e-3).float().mean() < 0.01
    again = sample_sigma("shifted_logit_normal", 5, 256, torch.Generator().manual_seed(3))
    assert torch.equal(again, sample_sigma("shifted_logit_normal", 5, 256, torch.Generator().manual_seed(3)))


def test_uniform_sampler() -> None:
    s = sample_sigma("uniform", 10000, 1024, torch.Generator().manual_seed(0))
    assert abs(s.mean().item() - 0.5) < 0.02


def test_linear_schedule_decays_to_a_tenth_after_warmup() -> None:
    assert lr_factor(0, 100, 0) == 1.0
    assert lr_factor(50, 100, 0) == pytest.approx(0.55)
    assert lr_factor(100, 100, 0) == pytest.approx(0.1)
    assert [lr_factor(i, 100, 4) for i in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(4, 100, 4) == 1.0
    assert math.isclose(lr_factor(100, 100, 4), 0.1)
