"""The engine's CLI end to end on the tiny model: training, then our validation and export stages."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import safetensors
import torch
from safetensors.torch import load_file

from ltx_core.loader import LTXV_LORA_COMFY_RENAMING_MAP, LoraPathStrengthAndSDOps, SingleGPUModelBuilder
from ltx_core.model.transformer import LTXV_MODEL_COMFY_RENAMING_MAP, LTXModelConfigurator


def _run_engine(spec: dict, folder: Path) -> tuple[int, list[dict], str]:
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, "-m", "kiln_engine", "run", str(path)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, events, proc.stderr


def test_run_writes_validation_video_lora_and_config(av_dataset: Path, engine_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = {
        "manifest": str(av_dataset), "output_dir": str(out), "cache_dir": str(engine_cache),
        "model": {"kind": "tiny", "seed": 0}, "device": "cpu",
        "request": {"rank": 8, "number_of_steps": 3, "number_of_frames": 9, "frame_rate": 25, "trigger_phrase": "kiln",
                    "validation": [{"prompt": "kiln a test pattern"}, {"prompt": "kiln bars"}],
                    "validation_number_of_frames": 9, "validation_frame_rate": 25},
        "validation_steps": 2, "validation_size": [64, 64], "checkpoint_interval": 0,
    }
    code, events, stderr = _run_engine(spec, tmp_path)
    assert code == 0, stderr[-3000:]
    names = [e["event"] for e in events]
    assert names[-1] == "done"
    phases = [e["name"] for e in events if e["event"] == "phase"]
    assert phases.index("validating") < phases.index("exporting")
    validating = [e for e in events if e["event"] == "progress" and e["phase"] == "validating"]
    assert validating[-1]["step"] == validating[-1]["total"] == 4
    artifacts = {e["kind"]: Path(e["path"]) for e in events if e["event"] == "artifact"}
    assert set(artifacts) == {"video", "lora", "config"}

    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames",
                            "-of", "json", str(artifacts["video"])], capture_output=True, text=True, check=True)
    streams = {s["codec_name"]: s for s in json.loads(probe.stdout)["streams"]}
    assert int(streams["h264"]["nb_read_frames"]) == 18 and "aac" in streams

    lora = load_file(str(artifacts["lora"]))
    assert all(k.startswith("diffusion_model.transformer_blocks.") for k in lora)
    assert any(".audio_attn1." in k for k in lora)  # the run had audio
    with safetensors.safe_open(str(artifacts["lora"]), framework="pt") as f:
        meta = f.metadata()
    assert meta["trigger_phrase"] == "kiln" and meta["rank"] == "8" and meta["steps"] == "3"
    config = json.loads(artifacts["config"].read_text())
    assert config["lora_file"] == artifacts["lora"].name and config["request"]["number_of_steps"] == 3
    assert config["trigger_phrase"] == "kiln" and config["number_of_frames"] == 9

    # The exported file is the trained weights: it matches the final training checkpoint (alpha = rank).
    checkpoints = sorted((out / "checkpoints").glob("step_*"))
    ckpt = load_file(str(checkpoints[-1] / "lora.safetensors"))
    assert set(ckpt) == set(lora)
    for key, value in ckpt.items():
        assert torch.allclose(lora[key].float(), value.float(), rtol=1e-2, atol=1e-3), key
    # And ltx-core's LoRA fusion accepts it.
    ltx_file = next((engine_cache / "models").glob("tiny-*seed0")) / "ltx-2.3-tiny.safetensors"
    fused = SingleGPUModelBuilder(model_class_configurator=LTXModelConfigurator, model_path=str(ltx_file),
                                  model_sd_ops=LTXV_MODEL_COMFY_RENAMING_MAP,
                                  loras=(LoraPathStrengthAndSDOps(str(artifacts["lora"]), 1.0, LTXV_LORA_COMFY_RENAMING_MAP),)
                                  ).build(device=torch.device("cpu"), dtype=torch.bfloat16)
    assert not any(p.device.type == "meta" for p in fused.parameters())
