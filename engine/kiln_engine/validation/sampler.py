"""One validation sample: Euler sampling of video (+ audio) latents with CFG, STG and modality guidance.

The denoising step is ltx-pipelines' own multi-modal guider function (the reference
pipeline's guidance arithmetic); the state set-up, the loop and the decoding are ours so
that latent sizes come from the loaded model (the tiny model has 16 video latent channels,
the real one 128) and nothing prints progress bars.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

import torch

from ltx_core.components.diffusion_steps import EulerDiffusionStep
from ltx_core.components.guiders import MultiModalGuiderFactory
from ltx_core.components.noisers import GaussianNoiser
from ltx_core.components.patchifiers import AudioPatchifier, VideoLatentPatchifier
from ltx_core.components.schedulers import LTX2Scheduler
from ltx_core.conditioning import VideoConditionByLatentIndex
from ltx_core.model.audio_vae import decode_audio
from ltx_core.model.audio_vae.audio_vae import LATENT_DOWNSAMPLE_FACTOR
from ltx_core.model.transformer import X0Model
from ltx_core.model.transformer.model import LTXModel
from ltx_core.model.video_vae import TilingConfig, decode_video
from ltx_core.tools import AudioLatentTools, VideoLatentTools
from ltx_core.types import AudioLatentShape, LatentState, VideoLatentShape, VideoPixelShape
from ltx_pipelines.utils.helpers import multi_modal_guider_factory_denoising_func, post_process_latent

from .models import ValidationModels
from .settings import ValidationSettings


@dataclass
class EncodedPrompt:
    """A prompt as the transformer takes it: contexts after the text connectors, batch of one.

    `video` is [1, L, Dv] (or [L, Dv]); `audio` is [1, L, Da] (or [L, Da]).
    """

    video: torch.Tensor
    audio: torch.Tensor

    def on(self, device: torch.device, dtype: torch.dtype) -> "EncodedPrompt":
        """Batched copies on `device` in `dtype`."""
        v, a = self.video, self.audio
        v = v[None] if v.dim() == 2 else v
        a = a[None] if a.dim() == 2 else a
        return EncodedPrompt(video=v.to(device=device, dtype=dtype), audio=a.to(device=device, dtype=dtype))


@dataclass
class Sample:
    """A decoded validation sample: uint8 frames [F, H, W, 3] and, when generated, a stereo waveform."""

    frames: torch.Tensor
    waveform: torch.Tensor | None  # [2, samples], float in [-1, 1]
    sample_rate: int | None


def _velocity_model(transformer: torch.nn.Module) -> LTXModel:
    """The `LTXModel` inside peft / DDP / compile wrappers (peft's LoRA layers live inside it)."""
    model = transformer
    for _ in range(4):
        if isinstance(model, LTXModel):
            return model
        if hasattr(model, "get_base_model"):
            model = model.get_base_model()
        elif hasattr(model, "module"):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            break
    if not isinstance(model, LTXModel):
        raise TypeError(f"validation needs an ltx-core LTXModel (optionally wrapped by peft/DDP), got {type(transformer).__name__}")
    return model


def _model_dtype(model: LTXModel) -> torch.dtype:
    return model.patchify_proj.weight.dtype if model.patchify_proj.weight.is_floating_point() else torch.bfloat16


def _audio_shape(models: ValidationModels, pixel_shape: VideoPixelShape, model: LTXModel) -> AudioLatentShape:
    """The audio latent grid for a clip of `pixel_shape`'s duration, from the audio VAE's own settings."""
    decoder = models.audio_decoder
    # Without an audio VAE (video-only run) only the token count matters: use the real VAE's defaults.
    channels = int(decoder.z_channels) if decoder is not None else 8
    sample_rate = int(decoder.sample_rate) if decoder is not None else 16000
    hop = int(decoder.mel_hop_length) if decoder is not None else 160
    in_features = model.audio_patchify_proj.in_features
    if in_features % channels:
        raise ValueError(f"audio transformer input {in_features} is not a multiple of the audio VAE's {channels} latent channels")
    return AudioLatentShape.from_video_pixel_shape(
        pixel_shape,
        channels=channels,
        mel_bins=in_features // channels,
        sample_rate=sample_rate,
        hop_length=hop,
        audio_latent_downsample_factor=LATENT_DOWNSAMPLE_FACTOR,
    )


def _image_condition(models: ValidationModels, image_pixels: torch.Tensor, tools: VideoLatentTools,
                     device: torch.device) -> VideoConditionByLatentIndex:
    """Encodes a [1, 3, 1, H, W] image in [-1, 1] into the first latent frame, kept clean (timestep 0)."""
    if models.video_encoder is None:
        raise ValueError("an image-to-video validation prompt needs the video encoder")
    enc_dtype = next(models.video_encoder.parameters()).dtype
    with torch.inference_mode():
        latent = models.video_encoder(image_pixels.to(device=device, dtype=enc_dtype))
    return VideoConditionByLatentIndex(latent=latent, strength=1.0, latent_idx=0)


def sample(
    models: ValidationModels,
    prompt: EncodedPrompt,
    negative: EncodedPrompt,
    settings: ValidationSettings,
    image_pixels: torch.Tensor | None = None,
    on_step: "callable | None" = None,
) -> Sample:
    """Generates one clip of `settings.frames` frames at `settings.width` x `settings.height`."""
    model = _velocity_model(models.transformer)
    device = model.patchify_proj.weight.device
    dtype = _model_dtype(model)
    num_layers = len(model.transformer_blocks)
    with_audio = settings.generate_audio and models.audio_decoder is not None and models.vocoder is not None

    generator = torch.Generator(device=device).manual_seed(settings.seed)
    pixel_shape = VideoPixelShape(batch=1, frames=settings.frames, height=settings.height, width=settings.width, fps=settings.fps)
    video_shape = VideoLatentShape.from_pixel_shape(pixel_shape, latent_channels=model.patchify_proj.in_features)
    video_tools = VideoLatentTools(VideoLatentPatchifier(patch_size=1), video_shape, settings.fps)
    audio_tools = AudioLatentTools(AudioPatchifier(patch_size=1), _audio_shape(models, pixel_shape, model))

    noiser = GaussianNoiser(generator=generator)
    video_state = video_tools.create_initial_state(device, dtype)
    if image_pixels is not None:
        video_state = _image_condition(models, image_pixels, video_tools, device).apply_to(video_state, video_tools)
    video_state = noiser(video_state, 1.0)
    audio_state = audio_tools.create_initial_state(device, dtype)
    if with_audio:
        audio_state = noiser(audio_state, 1.0)
    else:
        # Silent, clean audio tokens (timestep 0) stand in for the modality the run does not have,
        # as ltx-pipelines' video-only path does.
        audio_state = replace(audio_state, denoise_mask=torch.zeros_like(audio_state.denoise_mask))

    pos, neg = prompt.on(device, dtype), negative.on(device, dtype)
    video_params, audio_params = settings.guider_params(num_layers, with_audio)
    denoise = multi_modal_guider_factory_denoising_func(
        video_guider_factory=MultiModalGuiderFactory.constant(video_params, negative_context=neg.video),
        audio_guider_factory=MultiModalGuiderFactory.constant(audio_params, negative_context=neg.audio),
        v_context=pos.video,
        a_context=pos.audio,
        transformer=X0Model(model),
    )
    sigmas = LTX2Scheduler().execute(steps=settings.steps).to(dtype=torch.float32, device=device)
    stepper = EulerDiffusionStep()
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), autocast:
            for i in range(len(sigmas) - 1):
                den_v, den_a = denoise(video_state, audio_state, sigmas, i)
                den_v = post_process_latent(den_v, video_state.denoise_mask, video_state.clean_latent)
                den_a = post_process_latent(den_a, audio_state.denoise_mask, audio_state.clean_latent)
                video_state = replace(video_state, latent=stepper.step(video_state.latent, den_v, sigmas, i))
                audio_state = replace(audio_state, latent=stepper.step(audio_state.latent, den_a, sigmas, i))
                if on_step is not None:
                    on_step(i + 1, len(sigmas) - 1)
    finally:
        model.train(was_training)
    return _decode(models, video_tools, audio_tools, video_state, audio_state, with_audio, settings, generator)


def _decode(models: ValidationModels, video_tools: VideoLatentTools, audio_tools: AudioLatentTools,
            video_state: LatentState, audio_state: LatentState, with_audio: bool, settings: ValidationSettings,
            generator: torch.Generator) -> Sample:
    video_latent = video_tools.unpatchify(video_tools.clear_conditioning(video_state)).latent
    dec_dtype = next(models.video_decoder.parameters()).dtype
    big = settings.width * settings.height > 512 * 512 or settings.frames > 64
    tiling = TilingConfig.default() if big else None
    with torch.inference_mode():
        chunks = list(decode_video(video_latent.to(dec_dtype), models.video_decoder, tiling_config=tiling, generator=generator))
    frames = torch.cat([c.cpu() for c in chunks], dim=0)[: settings.frames]
    if not with_audio:
        return Sample(frames=frames, waveform=None, sample_rate=None)
    audio_latent = audio_tools.unpatchify(audio_tools.clear_conditioning(audio_state)).latent
    a_dtype = next(models.audio_decoder.parameters()).dtype
    with torch.inference_mode():
        audio = decode_audio(audio_latent.to(a_dtype), models.audio_decoder, models.vocoder)
    wave = audio.waveform.float().cpu()
    if wave.dim() == 3:
        wave = wave[0]
    if wave.dim() == 1:
        wave = wave[None]
    if wave.shape[0] == 1:
        wave = wave.repeat(2, 1)
    return Sample(frames=frames, waveform=wave[:2], sample_rate=int(audio.sampling_rate))
