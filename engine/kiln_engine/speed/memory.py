"""GPU memory estimate of a training job and the settings that fit the GPU the engine finds.

The estimate is a sum of parts, calibrated on PERFORMANCE.md's H100 measurements of the
full LTX-2.3 transformer (18.99 B parameters, 48 blocks of width 4096, bf16 base, rank 32,
checkpointing on): 40.5 / 43.7 / 45.6 / 48.2 GiB peak at 3,072 / 6,912 / 9,216 / 12,288
video tokens, i.e. about 38 GiB fixed and 0.835 GiB per 1,000 video tokens (about 4.6 bytes
per token per block per model-width unit with checkpointing). Without checkpointing the
per-token cost is not measured (80 GB ran out at 6,912 tokens); `NO_CHECKPOINT_BYTES` is an
estimate from the block's saved tensors and must be calibrated on a GPU.

Everything here is a pure function of numbers, so the choice logic is tested with any
memory size without a GPU.
"""
from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
#: Bytes per LoRA parameter: fp32 weight, fp32 gradient, AdamW's two fp32 moments.
LORA_BYTES = 16
#: Activation bytes per (video token x block x width unit) with every block checkpointed (fitted, H100).
CHECKPOINT_ALL_BYTES = 4.6
#: The same with no checkpointing (estimate: ~20 bf16 tensors of width size saved per block; needs a GPU calibration).
NO_CHECKPOINT_BYTES = 40.0
#: Fixed extra over weights + optimiser (fitted: the measured intercept, ~37.9 GiB, is within 0.3 GiB of
#: bf16 weights + LoRA state alone, so the context and allocator slack hide in the rounding).
OVERHEAD_GIB = 0.0
#: Leave this share of the free memory unused (fragmentation, the validation stage's decoders).
HEADROOM = 0.95


@dataclass(frozen=True)
class JobShape:
    """What the estimate needs to know of the model and the job."""

    base_params: int  # frozen transformer parameters
    lora_params: int  # trainable LoRA parameters
    blocks: int
    width: int  # video model width (4096 on LTX-2.3)
    video_tokens: int
    audio_tokens: int = 0


@dataclass(frozen=True)
class Setting:
    """One way to run a job: base weight format and checkpointing mode."""

    quantization: str | None  # None (bf16 base) or "fp8"
    checkpoint: str  # "none", "every_k" (k = 2) or "all"

    def label(self) -> str:
        """Short name for logs."""
        return f"{'fp8' if self.quantization else 'bf16'} base, checkpoint {self.checkpoint}"


#: Candidates from fastest to leanest: the first one that fits wins. fp8 changes the maths
#: (rounded base weights), so it comes only after every bf16 setting.
CANDIDATES = (
    Setting(None, "none"), Setting(None, "every_k"), Setting(None, "all"),
    Setting("fp8", "none"), Setting("fp8", "every_k"), Setting("fp8", "all"),
)


def estimate_bytes(shape: JobShape, setting: Setting) -> int:
    """Estimated peak GPU bytes of one training step of `shape` under `setting`."""
    base = shape.base_params * (1 if setting.quantization == "fp8" else 2)
    lora = shape.lora_params * LORA_BYTES
    per_unit = {"all": CHECKPOINT_ALL_BYTES, "none": NO_CHECKPOINT_BYTES,
                "every_k": (CHECKPOINT_ALL_BYTES + NO_CHECKPOINT_BYTES) / 2}[setting.checkpoint]
    tokens = shape.video_tokens + shape.audio_tokens // 2  # audio tokens are half as wide (2048 on LTX-2.3)
    activations = per_unit * tokens * shape.blocks * shape.width
    return int(base + lora + activations + OVERHEAD_GIB * GIB)


@dataclass(frozen=True)
class Choice:
    """The setting picked for a GPU and why."""

    setting: Setting
    estimate_bytes: int
    free_bytes: int
    fits: bool

    def log_line(self) -> str:
        """The engine's log line for this choice."""
        verdict = "fits" if self.fits else "does NOT fit even the leanest setting; expect out of memory"
        return (f"memory plan: {self.setting.label()} - estimated peak {self.estimate_bytes / GIB:.1f} GiB of "
                f"{self.free_bytes / GIB:.1f} GiB free ({verdict})")


def choose_setting(shape: JobShape, free_bytes: int, allow_fp8: bool = True, fixed_quantization: str | None = None,
                   fixed_checkpoint: str | None = None) -> Choice:
    """The fastest candidate whose estimate fits `HEADROOM` x `free_bytes`.

    `fixed_*` pin what the spec set explicitly; `allow_fp8` is False where fp8 is unavailable.
    With nothing fitting, the leanest allowed setting is returned with `fits` False.
    """
    allowed = [c for c in CANDIDATES
               if (fixed_quantization is None or c.quantization == fixed_quantization)
               and (fixed_checkpoint is None or c.checkpoint == fixed_checkpoint)
               and (allow_fp8 or c.quantization is None or fixed_quantization == "fp8")]
    if not allowed:
        raise ValueError("no candidate setting matches the fixed quantization and checkpointing")
    budget = HEADROOM * free_bytes
    for c in allowed:
        est = estimate_bytes(shape, c)
        if est <= budget:
            return Choice(c, est, free_bytes, True)
    leanest = min(allowed, key=lambda c: estimate_bytes(shape, c))
    return Choice(leanest, estimate_bytes(shape, leanest), free_bytes, False)


def job_shape(model: object, lora_params: int, video_tokens: int, audio_tokens: int) -> JobShape:
    """The shape of a LoRA-injected `LTXModel` (its frozen parameters, block count and width)."""
    import torch

    assert isinstance(model, torch.nn.Module)
    base = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    blocks = model.transformer_blocks
    width = blocks[0].attn1.to_q.in_features if hasattr(blocks[0], "attn1") else 1
    return JobShape(base_params=base, lora_params=lora_params, blocks=len(blocks), width=width,
                    video_tokens=video_tokens, audio_tokens=audio_tokens)
