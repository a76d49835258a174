"""GRPO for the solver with TRL's GRPOTrainer and verifiable rewards (training.rewards).

Rollouts see the solver's prompt (plus the answer-tag instruction) and frames resized to
the fixed frame size, so the generator (transformers or vLLM) and the trainer count the
same image tokens. With `use_vllm`, TRL generates with vLLM in 'colocate' or 'server'
mode; see docs/training.md for the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
from transformers import PreTrainedModel, ProcessorMixin
from trl import GRPOConfig, GRPOTrainer

from training.arguments import training_arguments
from training.config import GRPOSettings
from training.data import SceneSource, build_grpo_dataset
from training.modeling import lora_config
from training.rewards import resolve_rewards


def grpo_dataset(settings: GRPOSettings, samples: Any, scenes: SceneSource) -> datasets.Dataset:
    return build_grpo_dataset(
        samples,
        scenes,
        settings.num_frames,
        settings.frame_size,
        settings.answer_format,
        settings.only_accepted,
    )


def grpo_config(
    settings: GRPOSettings, output_dir: Path, max_steps: int, skip_seen_batches: bool
) -> GRPOConfig:
    if settings.use_vllm:
        try:
            import vllm  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "use_vllm=True needs vLLM: pip install 'ouroboros-spatial[vllm]' (GPU machines only)"
            ) from error
    if settings.global_batch_size % settings.num_generations:
        raise ValueError(
            f"global_batch_size {settings.global_batch_size} (completions per step) must be a multiple "
            f"of num_generations {settings.num_generations}"
        )
    return GRPOConfig(
        **{
            **training_arguments(settings, output_dir, max_steps, skip_seen_batches),
            "num_generations": settings.num_generations,
            "max_completion_length": settings.max_completion_length,
            "temperature": settings.temperature,
            "beta": settings.beta,
            "reward_weights": settings.reward_weights,
            "use_vllm": settings.use_vllm,
            "vllm_mode": settings.vllm_mode,
            "vllm_server_host": settings.vllm_server_host,
            "vllm_server_port": settings.vllm_server_port,
            "vllm_gpu_memory_utilization": settings.vllm_gpu_memory_utilization,
            **settings.trainer_args,
        }
    )


def vision_token_ids(model: PreTrainedModel) -> list[int]:
    """Image/video placeholder and boundary tokens: a rollout that samples one breaks the
    3D RoPE index of the training forward (it would announce an image that is not there)."""
    names = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")
    found = (getattr(model.config, name, None) for name in names)
    return sorted({int(token) for token in found if token is not None})


def grpo_trainer(
    settings: GRPOSettings,
    model: PreTrainedModel,
    processor: ProcessorMixin,
    dataset: datasets.Dataset,
    output_dir: Path,
    max_steps: int,
    skip_seen_batches: bool,
) -> GRPOTrainer:
    """A GRPOTrainer for one iteration, stopping at global step `max_steps`."""
    args = grpo_config(settings, output_dir, max_steps, skip_seen_batches)
    # TRL pads the rollout prompts on the left but re-encodes them with the processor's own
    # padding side for the multimodal fields; a right-padding tokenizer would misalign
    # mm_token_type_ids with the tokens (wrong 3D RoPE positions, or a crash).
    processor.tokenizer.padding_side = "left"
    if not settings.use_vllm:  # TRL suppresses only the image token in transformers rollouts
        args.generation_kwargs = {
            "suppress_tokens": vision_token_ids(model),
            **(args.generation_kwargs or {}),
        }
    return GRPOTrainer(
        model=model,
        reward_funcs=resolve_rewards(settings.rewards),
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        peft_config=lora_config(settings),
    )
