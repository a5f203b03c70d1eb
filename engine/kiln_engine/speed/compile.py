"""torch.compile of the transformer blocks, one compiled graph shared by every block index.

Each block holds its index as a Python int (`self.idx`, read by the perturbation checks); by
default dynamo specialises on ints stored on modules, so every block recompiles and the
recompile limit (8) is hit on the 48-block model. `allow_unspec_int_on_nn_module` makes the
index a graph input instead. `explain_block` counts graphs and graph breaks of one block's
forward with `torch._dynamo.explain`, so the breaks can be reported and kept at zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch._dynamo

_ORIGINAL = "_kiln_eager_forward"


def _configure() -> None:
    torch._dynamo.config.allow_unspec_int_on_nn_module = True
    # ltx-core's attention dispatcher instantiates `PytorchAttention`, a typing.Protocol subclass: its
    # first instantiation rewrites the class's `__init__`, which fails a dynamo guard and costs one
    # recompile per compiled function. Instantiate it once before compiling.
    from ltx_core.model.transformer.attention import PytorchAttention

    PytorchAttention()
    # Every block shares one code object; room for the training and the checkpoint-recompute variants.
    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 16)


def compile_blocks(model: torch.nn.Module, backend: str = "inductor") -> int:
    """Compile each transformer block's forward in place (parameters untouched); returns how many."""
    _configure()
    blocks = list(model.transformer_blocks)
    for block in blocks:
        if _ORIGINAL not in block.__dict__:
            eager = block.forward
            block.__dict__[_ORIGINAL] = eager
            block.forward = torch.compile(eager, backend=backend, dynamic=None)
    return len(blocks)


def uncompile_blocks(model: torch.nn.Module) -> None:
    """Give every block its eager forward back."""
    for block in model.transformer_blocks:
        block.__dict__.pop("forward", None)
        block.__dict__.pop(_ORIGINAL, None)


@dataclass(frozen=True)
class ExplainReport:
    """What dynamo made of one block's forward."""

    graphs: int
    graph_breaks: int
    ops: int
    break_reasons: list[str]

    def line(self) -> str:
        """One log line."""
        reasons = "; ".join(self.break_reasons[:3]) or "none"
        return f"block forward: {self.graphs} graph(s), {self.graph_breaks} graph break(s), {self.ops} ops; breaks: {reasons}"


def explain_block(block: torch.nn.Module, *args: Any, **kwargs: Any) -> ExplainReport:
    """Run `torch._dynamo.explain` on `block(*args, **kwargs)`."""
    _configure()
    torch._dynamo.reset()
    out = torch._dynamo.explain(block)(*args, **kwargs)
    reasons = [str(getattr(r, "reason", r)).splitlines()[0] for r in out.break_reasons]
    return ExplainReport(graphs=out.graph_count, graph_breaks=out.graph_break_count, ops=out.op_count,
                         break_reasons=reasons)
