"""The config of the tiny test model, in the same layout as the LTX-2.3 checkpoint's metadata.

Sizes were chosen to be the smallest that every ltx-core class accepts: 2 video heads x 16
dims, 16 latent channels, 2 layers, audio 2 heads x 8 dims, and an audio VAE whose decoder
still emits the 2 x 64 mel bins the vocoder's input convolution is fixed to.
"""
from __future__ import annotations

import copy
from typing import Any

#: Width of the tiny text encoder's hidden states and its layer count (plus embeddings).
TINY_TEXT_HIDDEN = 32
TINY_TEXT_LAYERS = 2
#: Token length the tiny tokenizer pads to: the connectors' 128 learnable registers need a multiple of 128.
TINY_TEXT_MAX_TOKENS = 128
#: Vocabulary of the stand-in tokenizer (bytes + specials).
TINY_VOCAB = 260

_TRANSFORMER: dict[str, Any] = {
    # Checked by ltx-core's configurator, real values.
    "dropout": 0.0,
    "attention_bias": True,
    "num_vector_embeds": None,
    "activation_fn": "gelu-approximate",
    "num_embeds_ada_norm": 1000,
    "use_linear_projection": False,
    "only_cross_attention": False,
    "cross_attention_norm": True,
    "double_self_attention": False,
    "upcast_attention": False,
    "standardization_norm": "rms_norm",
    "norm_elementwise_affine": False,
    "qk_norm": "rms_norm",
    "positional_embedding_type": "rope",
    "use_audio_video_cross_attention": True,
    "share_ff": False,
    "av_cross_ada_norm": True,
    "use_middle_indices_grid": True,
    # Sizes.
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "in_channels": 16,
    "out_channels": 16,
    "num_layers": 2,
    "cross_attention_dim": 32,
    "audio_num_attention_heads": 2,
    "audio_attention_head_dim": 8,
    "audio_in_channels": 32,
    "audio_out_channels": 32,
    "audio_cross_attention_dim": 16,
    "attention_type": "pytorch",
    # LTX-2.3 features.
    "positional_embedding_theta": 10000.0,
    "positional_embedding_max_pos": [20, 2048, 2048],
    "audio_positional_embedding_max_pos": [20],
    "timestep_scale_multiplier": 1000,
    "av_ca_timestep_scale_multiplier": 1000,
    "rope_type": "split",
    "frequencies_precision": "float64",
    "apply_gated_attention": True,
    "cross_attention_adaln": True,
    "caption_proj_before_connector": True,
    "caption_projection_first_linear": False,
    "caption_proj_input_norm": False,
    "caption_projection_second_linear": False,
    # Text connectors.
    "connector_num_attention_heads": 2,
    "connector_attention_head_dim": 16,
    "connector_num_layers": 1,
    "connector_positional_embedding_max_pos": [4096],
    "connector_apply_gated_attention": True,
    "audio_connector_num_attention_heads": 2,
    "audio_connector_attention_head_dim": 8,
    "audio_connector_num_layers": 1,
}

_VAE: dict[str, Any] = {
    "dims": 3,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 16,
    "patch_size": 4,
    "norm_layer": "pixel_norm",
    "latent_log_var": "uniform",
    "spatial_padding_mode": "zeros",
    # 4 (patch) x 2 x 2 x 2 = 32 in space, 2 x 2 x 2 = 8 in time, as in the real VAE.
    "encoder_blocks": [
        ["compress_space_res", {"multiplier": 1}],
        ["compress_time_res", {"multiplier": 1}],
        ["compress_all_res", {"multiplier": 1}],
        ["compress_all_res", {"multiplier": 1}],
    ],
    "decoder_blocks": [
        ["compress_space", {"multiplier": 1}],
        ["compress_time", {"multiplier": 1}],
        ["compress_all", {"residual": True, "multiplier": 1}],
        ["compress_all", {"residual": True, "multiplier": 1}],
    ],
    "causal_decoder": False,
    "timestep_conditioning": False,
    "decoder_base_channels": 4,
}

_AUDIO_VAE: dict[str, Any] = {
    "model": {
        "params": {
            "sampling_rate": 16000,
            "ddconfig": {
                # ch must equal z_channels x latent mel bins (64 / 4): the per-channel
                # statistics are sized by it.
                "ch": 32,
                "out_ch": 2,
                "in_channels": 2,
                "ch_mult": [1, 1, 1],
                "num_res_blocks": 1,
                "attn_resolutions": [],
                "resolution": 256,
                "z_channels": 2,
                "double_z": True,
                "mel_bins": 64,
                "norm_type": "pixel",
                "causality_axis": "height",
                "mid_block_add_attention": False,
                "dropout": 0.0,
            }
        }
    },
    "preprocessing": {"stft": {"hop_length": 160, "filter_length": 1024, "causal": True}, "mel": {"n_mel_channels": 64}},
}

_VOCODER: dict[str, Any] = {
    "resblock": "1",
    "stereo": True,
    "resblock_kernel_sizes": [3],
    "resblock_dilation_sizes": [[1, 3, 5]],
    # 160-sample hop at 16 kHz -> 24 kHz output: 240 samples per mel frame.
    "upsample_rates": [6, 5, 8],
    "upsample_kernel_sizes": [12, 10, 16],
    "upsample_initial_channel": 16,
    "output_sampling_rate": 24000,
    "activation": "snake",
    "use_tanh_at_final": True,
    "use_bias_at_final": True,
}


def tiny_config() -> dict[str, Any]:
    """A fresh copy of the tiny model's full config (the JSON stored in the checkpoint metadata)."""
    return copy.deepcopy(
        {
            "transformer": _TRANSFORMER,
            "vae": _VAE,
            "audio_vae": _AUDIO_VAE,
            "vocoder": _VOCODER,
            "kiln_text_encoder": {
                "hidden_size": TINY_TEXT_HIDDEN,
                "num_hidden_layers": TINY_TEXT_LAYERS,
                "vocab_size": TINY_VOCAB,
                "max_tokens": TINY_TEXT_MAX_TOKENS,
            },
        }
    )
