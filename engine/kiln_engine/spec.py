"""The run spec: what `python -m kiln_engine run spec.json` reads. Validated field by field.

Shape (see engine/README.md):
    {"manifest": path, "output_dir": path, "cache_dir": path,
     "model": {"kind": "tiny", "seed": N} | {"kind": "checkpoint", "path": folder},
     "device": "cpu" | "cuda" | "cuda:N", "request": {fal request fields},
     "checkpoint_interval": N, "resume_from": path | null, "seed": 42,
     "quantization": null | "fp8", "progress_interval": N,
     "validation_steps": N | null, "guidance": {...} | null, ...}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadSpec
from .speed.settings import SpeedSettings, parse_speed

#: Defaults of the fal request fields the engine reads (ARCHITECTURE.md §3).
REQUEST_DEFAULTS: dict[str, Any] = {
    "rank": 32,
    "number_of_steps": 2000,
    "learning_rate": 2e-4,
    "number_of_frames": 89,
    "frame_rate": 25,
    "resolution": "medium",
    "aspect_ratio": "1:1",
    "trigger_phrase": "",
    "with_audio": None,
    "first_frame_conditioning_p": 0.5,
    "validation": [],
    "validation_negative_prompt": "worst quality, inconsistent motion, blurry, jittery, distorted",
    "validation_number_of_frames": 89,
    "validation_frame_rate": 25,
    "validation_resolution": "high",
    "validation_aspect_ratio": "1:1",
    "stg_scale": 1.0,
    "generate_audio_in_validation": True,
}

_TOP_LEVEL = {
    "manifest", "output_dir", "cache_dir", "model", "device", "request", "checkpoint_interval", "resume_from",
    "seed", "quantization", "progress_interval", "validation_steps", "guidance", "warmup_steps",
    "gradient_checkpointing", "max_grad_norm", "weight_decay", "timestep_sampling", "validation_seed",
    "validation_size", "skip_validation", "speed",
}


@dataclass(frozen=True)
class ModelSource:
    """Where the weights come from: the built-in tiny model (by seed) or a checkpoint folder."""

    kind: str
    seed: int = 0
    path: str | None = None


@dataclass(frozen=True)
class Spec:
    """A validated run spec."""

    manifest: Path
    output_dir: Path
    cache_dir: Path
    model: ModelSource
    device: str
    request: dict[str, Any]
    checkpoint_interval: int
    resume_from: Path | None
    seed: int
    quantization: str | None
    progress_interval: int
    warmup_steps: int
    gradient_checkpointing: bool | None
    max_grad_norm: float
    weight_decay: float
    timestep_sampling: str
    validation_steps: int | None = None
    guidance: dict[str, Any] | None = None
    validation_seed: int = 42
    validation_size: list[int] | None = None
    skip_validation: bool = False
    speed: SpeedSettings = field(default_factory=SpeedSettings)
    raw: dict[str, Any] = field(default_factory=dict)

    # Request shortcuts used by the trainer.
    @property
    def rank(self) -> int:
        """LoRA rank (alpha = rank)."""
        return int(self.request["rank"])

    @property
    def steps(self) -> int:
        """Optimiser steps to run."""
        return int(self.request["number_of_steps"])

    @property
    def learning_rate(self) -> float:
        """Peak AdamW learning rate."""
        return float(self.request["learning_rate"])

    @property
    def first_frame_p(self) -> float:
        """Probability that a step keeps the first latent frame clean (image-to-video)."""
        return float(self.request["first_frame_conditioning_p"])

    @property
    def with_audio(self) -> bool | None:
        """True/False as requested, None = train audio when the dataset has it."""
        return self.request["with_audio"]


def _need(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise BadSpec(f"spec field '{where}{key}' is missing")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))):
        raise BadSpec(f"spec field '{where}{key}' has the wrong type ({type(value).__name__})")
    return value


def _int(obj: dict[str, Any], key: str, default: int, lo: int, hi: int, where: str = "") -> int:
    value = obj.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadSpec(f"spec field '{where}{key}' must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise BadSpec(f"spec field '{where}{key}' must be in {lo}..{hi}, got {value}")
    return value


def _float(obj: dict[str, Any], key: str, default: float, lo: float, hi: float, where: str = "") -> float:
    value = obj.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadSpec(f"spec field '{where}{key}' must be a number, got {value!r}")
    if not lo <= float(value) <= hi:
        raise BadSpec(f"spec field '{where}{key}' must be in {lo}..{hi}, got {value}")
    return float(value)


def _request(raw: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadSpec("spec field 'request' must be an object holding the fal request fields")
    req = dict(REQUEST_DEFAULTS)
    req.update(raw)
    w = "request."
    if req["rank"] not in (8, 16, 32, 64, 128) or isinstance(req["rank"], bool):
        raise BadSpec(f"spec field 'request.rank' must be one of 8, 16, 32, 64, 128, got {req['rank']!r}")
    # The engine accepts any positive step count (tests run a handful); the API enforces fal's 100..20000.
    req["number_of_steps"] = _int(req, "number_of_steps", 2000, 1, 1_000_000, w)
    req["learning_rate"] = _float(req, "learning_rate", 2e-4, 1e-8, 1.0, w)
    req["first_frame_conditioning_p"] = _float(req, "first_frame_conditioning_p", 0.5, 0.0, 1.0, w)
    req["stg_scale"] = _float(req, "stg_scale", 1.0, 0.0, 3.0, w)
    if req["with_audio"] not in (True, False, None):
        raise BadSpec(f"spec field 'request.with_audio' must be true, false or null, got {req['with_audio']!r}")
    if not isinstance(req["trigger_phrase"], str):
        raise BadSpec("spec field 'request.trigger_phrase' must be a string")
    if not isinstance(req["validation"], list):
        raise BadSpec("spec field 'request.validation' must be a list of {prompt, image_url?}")
    for i, item in enumerate(req["validation"]):
        if not isinstance(item, dict) or not isinstance(item.get("prompt"), str):
            raise BadSpec(f"spec field 'request.validation[{i}]' must be an object with a string 'prompt'")
    for key in ("validation_number_of_frames", "number_of_frames"):
        n = _int(req, key, 89, 1, 1000, w)
        if n % 8 != 1:
            raise BadSpec(f"spec field 'request.{key}' must be 8k+1 frames, got {n}")
    return req


def parse_spec(raw: Any) -> Spec:
    """Validate a decoded spec object; raise `BadSpec` naming the first bad field."""
    if not isinstance(raw, dict):
        raise BadSpec("the spec must be a JSON object")
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise BadSpec(f"unknown spec field(s): {', '.join(unknown)}")
    manifest = Path(_need(raw, "manifest", str, ""))
    output_dir = Path(_need(raw, "output_dir", str, ""))
    cache_dir = Path(raw.get("cache_dir") or (output_dir / "cache"))
    model_raw = _need(raw, "model", dict, "")
    kind = model_raw.get("kind")
    if kind == "tiny":
        model = ModelSource(kind="tiny", seed=_int(model_raw, "seed", 0, 0, 2**31 - 1, "model."))
    elif kind == "checkpoint":
        path = model_raw.get("path")
        if not isinstance(path, str) or not path:
            raise BadSpec("spec field 'model.path' must name the model folder for kind 'checkpoint'")
        model = ModelSource(kind="checkpoint", path=path)
    else:
        raise BadSpec(f"spec field 'model.kind' must be 'tiny' or 'checkpoint', got {kind!r}")
    device = raw.get("device", "cpu")
    if not isinstance(device, str) or not (device == "cpu" or device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit())):
        raise BadSpec(f"spec field 'device' must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    quant = raw.get("quantization")
    if quant not in (None, "int8", "fp8"):
        raise BadSpec(f"spec field 'quantization' must be null, 'int8' or 'fp8', got {quant!r}")
    resume = raw.get("resume_from")
    if resume is not None and not isinstance(resume, str):
        raise BadSpec("spec field 'resume_from' must be a path or null")
    sampling = raw.get("timestep_sampling", "shifted_logit_normal")
    if sampling not in ("shifted_logit_normal", "uniform"):
        raise BadSpec(f"spec field 'timestep_sampling' must be 'shifted_logit_normal' or 'uniform', got {sampling!r}")
    gc = raw.get("gradient_checkpointing")
    if gc not in (None, True, False):
        raise BadSpec("spec field 'gradient_checkpointing' must be true, false or null (auto: on for CUDA)")
    guidance = raw.get("guidance")
    if guidance is not None and not isinstance(guidance, dict):
        raise BadSpec("spec field 'guidance' must be an object or null")
    vsize = raw.get("validation_size")
    if vsize is not None and (not isinstance(vsize, list) or len(vsize) != 2 or not all(isinstance(v, int) and v > 0 for v in vsize)):
        raise BadSpec("spec field 'validation_size' must be [width, height] or null")
    vsteps = raw.get("validation_steps")
    if vsteps is not None:
        vsteps = _int(raw, "validation_steps", 30, 1, 1000)
    return Spec(
        manifest=manifest,
        output_dir=output_dir,
        cache_dir=cache_dir,
        model=model,
        device=device,
        request=_request(raw.get("request", {})),
        checkpoint_interval=_int(raw, "checkpoint_interval", 250, 0, 10_000_000),
        resume_from=Path(resume) if resume else None,
        seed=_int(raw, "seed", 42, 0, 2**31 - 1),
        quantization=quant,
        progress_interval=_int(raw, "progress_interval", 1, 1, 1_000_000),
        warmup_steps=_int(raw, "warmup_steps", 0, 0, 1_000_000),
        gradient_checkpointing=gc,
        max_grad_norm=_float(raw, "max_grad_norm", 1.0, 0.0, 1e6),
        weight_decay=_float(raw, "weight_decay", 0.01, 0.0, 1.0),
        timestep_sampling=sampling,
        validation_steps=vsteps,
        guidance=guidance,
        validation_seed=_int(raw, "validation_seed", 42, 0, 2**31 - 1),
        validation_size=vsize,
        skip_validation=bool(raw.get("skip_validation", False)),
        speed=parse_speed(raw.get("speed")),
        raw=raw,
    )


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        raise BadSpec(f"spec file {p} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadSpec(f"spec file {p} is not valid JSON: {exc}") from None
    return parse_spec(raw)
