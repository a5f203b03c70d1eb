"""Validation sampling with the trained LoRA: one mp4 (H.264 + AAC) playing every validation prompt.

How the engine's runner (`kiln_engine.runner`) uses it (after the last step, LoRA still attached):

    from kiln_engine.validation import (ValidationModels, encode_validation_prompts,
                                        settings_from_spec, validate)

    # at the start, while the text encoder is loaded (raises BadSpec for bad image_url entries):
    prompts, negative = encode_validation_prompts(text_encoder, embeddings_processor, spec.request, base_dir)
    ...
    settings = settings_from_spec(spec, run_has_audio=with_audio)
    models = ValidationModels(transformer=peft_model, video_decoder=loader.video_decoder(),
                              video_encoder=loader.video_encoder() if any(p.image for p in prompts) else None,
                              audio_decoder=loader.audio_decoder() if settings.generate_audio else None,
                              vocoder=loader.vocoder() if settings.generate_audio else None)
    path = validate(models, prompts, negative, settings, spec.output_dir / "validation.mp4",
                    on_progress=lambda step, total: sink.progress("validating", step, total))
    if path: sink.artifact("video", str(path))
"""
from .models import ValidationModels
from .sampler import EncodedPrompt, Sample, sample
from .settings import RESOLUTIONS, ValidationSettings, settings_from_spec
from .validate import (ValidationPrompt, check_validation_request, encode_validation_prompts, render_samples,
                       validate)

__all__ = [
    "RESOLUTIONS",
    "EncodedPrompt",
    "Sample",
    "ValidationModels",
    "ValidationPrompt",
    "ValidationSettings",
    "check_validation_request",
    "encode_validation_prompts",
    "render_samples",
    "sample",
    "settings_from_spec",
    "validate",
]
