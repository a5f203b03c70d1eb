"""Validation settings: size, length, steps and guidance, from the request and the spec's overrides.

Defaults are the LTX-2.3 reference pipeline's (`ltx_pipelines.utils.constants.LTX_2_3_PARAMS`):
30 Euler steps on the `LTX2Scheduler` schedule, video CFG 3, audio CFG 7, rescale 0.7,
audio<->video modality guidance 3, STG on block 28 skipping video and audio self-attention.
The request's `stg_scale` sets the STG strength of both modalities (0 turns STG off).

Spec overrides (all optional): `validation_steps`, `validation_seed`, `validation_size`
([width, height]) and `guidance`, an object with any of `video_cfg`, `audio_cfg`,
`stg_blocks` (list of block indices), `rescale`, `modality_scale`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ltx_core.components.guiders import MultiModalGuiderParams
from ltx_pipelines.utils.constants import LTX_2_3_PARAMS

from ..errors import BadSpec

#: Kiln's resolution buckets (width, height), ARCHITECTURE.md §3; all sides divisible by 32.
RESOLUTIONS: dict[str, dict[str, tuple[int, int]]] = {
    "low": {"1:1": (512, 512), "16:9": (672, 384), "9:16": (384, 672)},
    "medium": {"1:1": (768, 768), "16:9": (960, 544), "9:16": (544, 960)},
    "high": {"1:1": (1024, 1024), "16:9": (1280, 704), "9:16": (704, 1280)},
}

_GUIDANCE_KEYS = {"video_cfg", "audio_cfg", "stg_blocks", "rescale", "modality_scale"}


@dataclass(frozen=True)
class ValidationSettings:
    """Everything the sampler needs besides the models and the prompts."""

    width: int
    height: int
    frames: int
    fps: float
    steps: int = LTX_2_3_PARAMS.num_inference_steps
    seed: int = 42
    video_cfg: float = LTX_2_3_PARAMS.video_guider_params.cfg_scale
    audio_cfg: float = LTX_2_3_PARAMS.audio_guider_params.cfg_scale
    stg_scale: float = 1.0
    #: Blocks STG perturbs; None = the official block (28 for LTX-2.3), or the last block of a smaller model.
    stg_blocks: list[int] | None = None
    rescale: float = LTX_2_3_PARAMS.video_guider_params.rescale_scale
    modality_scale: float = LTX_2_3_PARAMS.video_guider_params.modality_scale
    generate_audio: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.width % 32 or self.height % 32 or self.width <= 0 or self.height <= 0:
            raise BadSpec(f"validation size {self.width}x{self.height} must be positive multiples of 32")
        if self.frames < 1 or self.frames % 8 != 1:
            raise BadSpec(f"validation_number_of_frames must be 8k+1, got {self.frames}")
        if self.fps <= 0:
            raise BadSpec(f"validation_frame_rate must be positive, got {self.fps}")
        if self.steps < 1:
            raise BadSpec(f"validation_steps must be at least 1, got {self.steps}")

    def resolved_stg_blocks(self, num_layers: int) -> list[int]:
        """The blocks to perturb on a transformer with `num_layers` blocks, checked against it."""
        if self.stg_blocks is None:
            official = LTX_2_3_PARAMS.video_guider_params.stg_blocks or [num_layers - 1]
            return [b if b < num_layers else num_layers - 1 for b in official]
        bad = [b for b in self.stg_blocks if not 0 <= b < num_layers]
        if bad:
            raise BadSpec(f"spec field 'guidance.stg_blocks' names block(s) {bad} but the model has blocks 0..{num_layers - 1}")
        return list(self.stg_blocks)

    def guider_params(self, num_layers: int, with_audio: bool) -> tuple[MultiModalGuiderParams, MultiModalGuiderParams]:
        """ltx-core guider parameters for video and audio."""
        blocks = self.resolved_stg_blocks(num_layers)
        # Without generated audio the isolated-modality pass has nothing to isolate: skip it.
        modality = self.modality_scale if with_audio else 1.0
        video = MultiModalGuiderParams(cfg_scale=self.video_cfg, stg_scale=self.stg_scale, stg_blocks=blocks,
                                       rescale_scale=self.rescale, modality_scale=modality)
        audio = MultiModalGuiderParams(cfg_scale=self.audio_cfg if with_audio else 1.0,
                                       stg_scale=self.stg_scale if with_audio else 0.0, stg_blocks=blocks,
                                       rescale_scale=self.rescale, modality_scale=modality)
        return video, audio

    def with_overrides(self, **changes: Any) -> "ValidationSettings":
        """A copy with some fields changed (tests compare STG on/off this way)."""
        return replace(self, **changes)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadSpec(f"spec field 'guidance.{name}' must be a number, got {value!r}")
    return float(value)


def settings_from_spec(spec: Any, run_has_audio: bool) -> ValidationSettings:
    """Settings for a run: `spec` is `kiln_engine.spec.Spec` (its `request` dict and override fields)."""
    req = spec.request
    size = getattr(spec, "validation_size", None)
    if size:
        width, height = int(size[0]), int(size[1])
    else:
        res, aspect = req.get("validation_resolution", "high"), req.get("validation_aspect_ratio", "1:1")
        if res not in RESOLUTIONS:
            raise BadSpec(f"spec field 'request.validation_resolution' must be low, medium or high, got {res!r}")
        if aspect not in RESOLUTIONS[res]:
            raise BadSpec(f"spec field 'request.validation_aspect_ratio' must be 16:9, 1:1 or 9:16, got {aspect!r}")
        width, height = RESOLUTIONS[res][aspect]
    guidance = dict(getattr(spec, "guidance", None) or {})
    unknown = sorted(set(guidance) - _GUIDANCE_KEYS)
    if unknown:
        raise BadSpec(f"unknown spec field(s) in 'guidance': {', '.join(unknown)} (known: {', '.join(sorted(_GUIDANCE_KEYS))})")
    base = ValidationSettings(width=width, height=height, frames=int(req.get("validation_number_of_frames", 89)),
                              fps=float(req.get("validation_frame_rate", 25)))
    stg_blocks = guidance.get("stg_blocks")
    if stg_blocks is not None and (not isinstance(stg_blocks, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in stg_blocks)):
        raise BadSpec("spec field 'guidance.stg_blocks' must be a list of block indices")
    steps = getattr(spec, "validation_steps", None)
    return replace(
        base,
        steps=int(steps) if steps else base.steps,
        seed=int(getattr(spec, "validation_seed", 42)),
        video_cfg=_number(guidance.get("video_cfg", base.video_cfg), "video_cfg"),
        audio_cfg=_number(guidance.get("audio_cfg", base.audio_cfg), "audio_cfg"),
        stg_scale=float(req.get("stg_scale", 1.0)),
        stg_blocks=stg_blocks,
        rescale=_number(guidance.get("rescale", base.rescale), "rescale"),
        modality_scale=_number(guidance.get("modality_scale", base.modality_scale), "modality_scale"),
        generate_audio=bool(req.get("generate_audio_in_validation", True)) and run_has_audio,
    )
