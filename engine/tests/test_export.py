"""Exported LoRA files load and fuse through ltx-core's own LoRA path exactly as the trained peft model behaves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file

from ltx_core.components.patchifiers import AudioPatchifier, VideoLatentPatchifier
from ltx_core.loader import LTXV_LORA_COMFY_RENAMING_MAP, LoraPathStrengthAndSDOps, SingleGPUModelBuilder
from ltx_core.model.transformer import LTXV_MODEL_COMFY_RENAMING_MAP, LTXModelConfigurator, Modality
from ltx_core.tools import AudioLatentTools, VideoLatentTools
from ltx_core.types import AudioLatentShape, VideoLatentShape

from kiln_engine.export import export_lora, lora_tensors, write_inference_config
from kiln_engine.models.checkpoint import ModelLoader, locate_model
from kiln_engine.train.lora import lora_modules, target_modules


def _inputs(seed: int = 0) -> tuple[Modality, Modality]:
    """A fixed noisy video (2x2x2 latent tokens) + audio (9 tokens) input for the tiny transformer."""
    g = torch.Generator().manual_seed(seed)
    vtools = VideoLatentTools(VideoLatentPatchifier(1), VideoLatentShape(1, 16, 2, 2, 2), fps=25.0)
    atools = AudioLatentTools(AudioPatchifier(1), AudioLatentShape(1, 2, 9, 16))
    vstate = vtools.create_initial_state(torch.device("cpu"), torch.float32)
    astate = atools.create_initial_state(torch.device("cpu"), torch.float32)
    sigma = torch.tensor([0.6])
    video = Modality(latent=torch.randn(vstate.latent.shape, generator=g), sigma=sigma,
                     timesteps=vstate.denoise_mask * sigma, positions=vstate.positions,
                     context=torch.randn(1, 128, 32, generator=g))
    audio = Modality(latent=torch.randn(astate.latent.shape, generator=g), sigma=sigma,
                     timesteps=astate.denoise_mask * sigma, positions=astate.positions,
                     context=torch.randn(1, 128, 16, generator=g))
    return video, audio


def _builder(ltx_file: Path, lora: Path | None = None, strength: float = 1.0) -> SingleGPUModelBuilder:
    loras = (LoraPathStrengthAndSDOps(str(lora), strength, LTXV_LORA_COMFY_RENAMING_MAP),) if lora else ()
    return SingleGPUModelBuilder(model_class_configurator=LTXModelConfigurator, model_path=str(ltx_file),
                                 model_sd_ops=LTXV_MODEL_COMFY_RENAMING_MAP, loras=loras)


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path):
    """A peft LoRA (alpha = 2 x rank, so folding is tested) with non-zero, 'trained' weights."""
    files = locate_model(tiny_model_dir)
    base = ModelLoader(files, torch.device("cpu"), torch.float32).transformer()
    torch.manual_seed(1)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=target_modules(True),
                                                 init_lora_weights=True))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.normal_(0, 0.3)
    return files, peft_model.eval()


def _run(model: torch.nn.Module) -> torch.Tensor:
    video, audio = _inputs()
    with torch.inference_mode():
        v, a = model(video, audio, None)
    return torch.cat([v.flatten(), a.flatten()]).float()


def test_keys_dtype_and_metadata(trained, tmp_path: Path) -> None:
    files, peft_model = trained
    out = export_lora(peft_model, tmp_path / "lora.safetensors", trigger_phrase="sks dog", base_model="ltx-2.3-22b-dev.safetensors",
                      with_audio=True)
    sd = load_file(str(out.path))
    modules = lora_modules(peft_model)
    assert len(modules) == 2 * 6 * 4  # 2 blocks x 6 attentions (video, text, audio, audio text, a2v, v2a) x q/k/v/out
    assert set(sd) == {f"diffusion_model.{m}.lora_{ab}.weight" for m in modules for ab in "AB"}
    assert "diffusion_model.transformer_blocks.0.attn1.to_out.0.lora_B.weight" in sd
    assert all(t.dtype == torch.bfloat16 for t in sd.values())
    a = sd["diffusion_model.transformer_blocks.1.audio_to_video_attn.to_k.lora_A.weight"]
    b = sd["diffusion_model.transformer_blocks.1.audio_to_video_attn.to_k.lora_B.weight"]
    assert a.shape[0] == 4 and b.shape[1] == 4
    layer = peft_model.get_base_model().transformer_blocks[1].audio_to_video_attn.to_k
    assert torch.equal(b, (layer.lora_B["default"].weight * 2.0).to(torch.bfloat16))  # alpha / rank = 2 folded in
    with safetensors.safe_open(str(out.path), framework="pt") as f:
        meta = f.metadata()
    assert (meta["rank"], meta["trigger_phrase"], meta["base_model"], meta["with_audio"]) == ("4", "sks dog", "ltx-2.3-22b-dev.safetensors", "true")
    assert set(meta["target_modules"].split(",")) >= {"attn1.to_q", "attn2.to_out.0", "video_to_audio_attn.to_v"}
    assert not list(tmp_path.glob(".tmp-*"))


def test_fused_through_ltx_core_changes_output_exactly_like_peft(trained, tmp_path: Path) -> None:
    files, peft_model = trained
    path = export_lora(peft_model, tmp_path / "lora.safetensors").path
    plain = _builder(files.ltx_file).build(device=torch.device("cpu"), dtype=torch.bfloat16)
    fused = _builder(files.ltx_file, path).build(device=torch.device("cpu"), dtype=torch.bfloat16)

    plain_sd, fused_sd = plain.state_dict(), fused.state_dict()
    lora = lora_tensors(peft_model)[0]
    adapted = {k[len("diffusion_model."):-len(".lora_A.weight")] + ".weight" for k in lora if k.endswith("lora_A.weight")}
    for key, weight in plain_sd.items():
        if key in adapted:
            delta = lora[f"diffusion_model.{key[:-7]}.lora_B.weight"] @ lora[f"diffusion_model.{key[:-7]}.lora_A.weight"]
            expected = weight.float() + delta
            assert torch.allclose(fused_sd[key].float(), expected, rtol=2e-2, atol=2e-2), key
            assert not torch.equal(fused_sd[key], weight), key
        else:
            assert torch.equal(fused_sd[key], weight), key  # untouched modules stay bit-identical

    # Output change of the fused bf16 release vs the trained fp32 peft model, on the same input.
    base_out = _run(plain.float().eval())
    with peft_model.disable_adapter():
        peft_base = _run(peft_model.get_base_model())
    assert torch.allclose(base_out, peft_base, atol=1e-5)  # same base weights on both sides
    peft_delta = _run(peft_model.get_base_model()) - base_out
    fused_delta = _run(fused.float().eval()) - base_out
    assert peft_delta.norm() > 0.1 * base_out.norm()  # the LoRA matters
    rel = (fused_delta - peft_delta).norm() / peft_delta.norm()
    assert rel < 0.01, f"fused LoRA output differs from peft by {rel:.3%}"
    # Unfolded alpha (strength 1 on B @ A without alpha / rank) would be far off: the check can fail.
    half = _builder(files.ltx_file, path, strength=0.5).build(device=torch.device("cpu"), dtype=torch.bfloat16)
    assert ((_run(half.float().eval()) - base_out) - peft_delta).norm() / peft_delta.norm() > 0.2


def test_export_without_adapter_fails(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = ModelLoader(locate_model(tiny_model_dir), torch.device("cpu"), torch.float32).transformer()
    with pytest.raises(ValueError, match="no LoRA"):
        export_lora(model, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_inference_config_holds_what_inference_needs(tmp_path: Path) -> None:
    request = {"rank": 32, "trigger_phrase": "sks", "resolution": "medium", "aspect_ratio": "16:9", "number_of_frames": 89,
               "frame_rate": 25, "validation": [{"prompt": "sks walking"}]}
    path = write_inference_config(tmp_path / "config.json", lora_file="lora.safetensors", base_model="ltx-2.3-22b-dev.safetensors",
                                  trigger_phrase="sks", rank=32, width=960, height=544, frames=89, fps=25, with_audio=True,
                                  request=request)
    config = json.loads(path.read_text())
    assert config["lora_file"] == "lora.safetensors" and config["base_model"] == "ltx-2.3-22b-dev.safetensors"
    assert config["recommended_scale"] == 1.0 and config["trigger_phrase"] == "sks"
    assert config["resolution"] == {"width": 960, "height": 544, "name": "medium", "aspect_ratio": "16:9"}
    assert (config["number_of_frames"], config["frame_rate"], config["with_audio"]) == (89, 25, True)
    assert config["request"] == request
