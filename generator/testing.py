"""Tiny random-weight video pipelines, for tests and benchmarks of the diffusers backend
where real weights can't be downloaded (the real loading code runs on them)."""

from __future__ import annotations

import json
from pathlib import Path


def save_tiny_text_to_video(directory: Path) -> Path:
    """TextToVideoSDPipeline with a 2-level UNet3D, a small VAE and a 2-layer CLIP text
    encoder, and a character-level tokenizer written here; saved to `directory`."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=64,
            projection_dim=16,
        )
    )
    vocab_dir = directory.parent / f"{directory.name}-tokenizer"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab[c], vocab[c + "</w>"] = len(vocab), len(vocab) + 1
    (vocab_dir / "vocab.json").write_text(json.dumps(vocab))
    (vocab_dir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        str(vocab_dir / "vocab.json"), str(vocab_dir / "merges.txt"), model_max_length=16
    )
    scheduler = DDIMScheduler(beta_schedule="scaled_linear", clip_sample=False)
    TextToVideoSDPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    ).save_pretrained(directory)
    return directory


def save_tiny_image_to_video(directory: Path) -> Path:
    """StableVideoDiffusionPipeline with a 2-level spatio-temporal UNet, a small temporal
    VAE and a 2-layer CLIP image encoder (SVD's own 224 px input); saved to `directory`."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),  # its group norms have 32 groups
        layers_per_block=1,
        sample_size=8,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=16,
        num_attention_heads=2,
        projection_class_embeddings_input_dim=24,
        addition_time_embed_dim=8,
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        latent_channels=4,
    )
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=16,
            projection_dim=16,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=32,
            patch_size=32,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear",
        prediction_type="v_prediction",
        timestep_type="continuous",
        use_karras_sigmas=True,
        sigma_min=0.002,
        sigma_max=700.0,
    )
    StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=image_encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(crop_size=224, size=224),
    ).save_pretrained(directory)
    return directory
