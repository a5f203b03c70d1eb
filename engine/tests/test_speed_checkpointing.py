"""speed.checkpoint: every-k, all and none give the plain path's loss and LoRA gradients."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from kiln_engine.speed.checkpointing import (apply_selective_checkpointing, checkpointed_blocks,
                                             remove_selective_checkpointing)
from kiln_engine.speed.probe import make_probe


def test_block_choice() -> None:
    assert checkpointed_blocks(5, "every_k", 2) == [True, False, True, False, True]
    assert checkpointed_blocks(4, "every_k", 3) == [True, False, False, True]
    assert checkpointed_blocks(3, "all", 2) == [True] * 3
    assert checkpointed_blocks(3, "none", 2) == [False] * 3
    with pytest.raises(ValueError):
        checkpointed_blocks(3, "some", 2)


def test_selective_checkpointing_matches_plain(engine_cache: Path) -> None:
    probe = make_probe(engine_cache, frames=9, size=64)
    plain_loss, plain_grads = probe.step()
    recomputed: list[int] = []
    # Count block calls: a checkpointed block runs twice (forward, then recompute in backward). A pre-hook,
    # since the non-reentrant recompute stops early, before the block's forward hooks would run.
    hooks = [b.register_forward_pre_hook(lambda m, i, idx=idx: recomputed.append(idx))
             for idx, b in enumerate(probe.model.transformer_blocks)]
    for mode, expected_runs in (("every_k", [0, 1, 0]), ("all", [0, 1, 1, 0]), ("none", [0, 1])):
        recomputed.clear()
        apply_selective_checkpointing(probe.model, mode, 2)
        loss, grads = probe.step()
        assert sorted(recomputed) == sorted(expected_runs), mode
        torch.testing.assert_close(loss, plain_loss, rtol=1e-6, atol=1e-7)
        for k in plain_grads:
            torch.testing.assert_close(grads[k], plain_grads[k], rtol=1e-5, atol=1e-7, msg=lambda m, k=k: f"{mode} {k}: {m}")
    for h in hooks:
        h.remove()
    remove_selective_checkpointing(probe.model)
    assert "_process_transformer_blocks" not in probe.model.__dict__
