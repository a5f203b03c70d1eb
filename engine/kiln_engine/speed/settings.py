"""`spec.speed`: the speed flags, validated field by field (defaults keep the plain path)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadSpec

LORA_IMPLS = ("peft", "fused")
CHECKPOINT_MODES = ("all", "none", "every_k")
_FIELDS = {"lora_impl", "checkpoint", "checkpoint_k", "compile", "compile_backend", "auto_fit"}


@dataclass(frozen=True)
class SpeedSettings:
    """The speed levers of a run.

    - `lora_impl`: "peft" (peft's forward) or "fused" (same parameters, no per-call casts, one addmm).
    - `checkpoint`: None (follow `gradient_checkpointing`), "all", "none" or "every_k" (every
      `checkpoint_k`-th block, starting with block 0).
    - `compile`: torch.compile each transformer block (one graph for all block indices).
    - `compile_backend`: the torch.compile backend ("inductor"; "aot_eager" compiles without C++).
    - `auto_fit`: on CUDA, let the memory estimate pick checkpointing and an fp8 base where the
      spec leaves them open; when false the estimate is only logged.
    """

    lora_impl: str = "peft"
    checkpoint: str | None = None
    checkpoint_k: int = 2
    compile: bool = False
    compile_backend: str = "inductor"
    auto_fit: bool = False

    def is_plain(self) -> bool:
        """True when no lever is on (the engine runs exactly its default path)."""
        return self == SpeedSettings()


def parse_speed(raw: Any) -> SpeedSettings:
    """Validate `spec.speed` (an object or null); raise `BadSpec` naming the bad field."""
    if raw is None:
        return SpeedSettings()
    if not isinstance(raw, dict):
        raise BadSpec("spec field 'speed' must be an object or null")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise BadSpec(f"unknown spec field(s): {', '.join('speed.' + k for k in unknown)}")
    lora_impl = raw.get("lora_impl", "peft")
    if lora_impl not in LORA_IMPLS:
        raise BadSpec(f"spec field 'speed.lora_impl' must be 'peft' or 'fused', got {lora_impl!r}")
    checkpoint = raw.get("checkpoint")
    if checkpoint is not None and checkpoint not in CHECKPOINT_MODES:
        raise BadSpec(f"spec field 'speed.checkpoint' must be null, 'all', 'none' or 'every_k', got {checkpoint!r}")
    k = raw.get("checkpoint_k", 2)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise BadSpec(f"spec field 'speed.checkpoint_k' must be an integer in 1..1000, got {k!r}")
    for key in ("compile", "auto_fit"):
        if not isinstance(raw.get(key, False), bool):
            raise BadSpec(f"spec field 'speed.{key}' must be true or false, got {raw[key]!r}")
    backend = raw.get("compile_backend", "inductor")
    if backend not in ("inductor", "aot_eager", "eager"):
        raise BadSpec(f"spec field 'speed.compile_backend' must be 'inductor', 'aot_eager' or 'eager', got {backend!r}")
    return SpeedSettings(lora_impl=lora_impl, checkpoint=checkpoint, checkpoint_k=k, compile=raw.get("compile", False),
                         compile_backend=backend, auto_fit=raw.get("auto_fit", False))
