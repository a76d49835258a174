"""TrainingArguments shared by the SFT and GRPO stages, derived from the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import TrainingArguments

from training.config import CommonSettings
from training.modeling import optimizer_name, use_bf16


def training_arguments(
    settings: CommonSettings, output_dir: Path, max_steps: int, skip_seen_batches: bool
) -> dict[str, Any]:
    """TrainingArguments for one iteration that ends at global step `max_steps`.

    `skip_seen_batches` is True only when an interrupted iteration resumes on its own data;
    a new iteration reads its new samples from the start (ignore_data_skip).
    """
    return {
        "output_dir": str(output_dir),
        "max_steps": max_steps,
        "per_device_train_batch_size": settings.per_device_batch_size,
        "gradient_accumulation_steps": settings.gradient_accumulation_steps(),
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": settings.lr_scheduler_type,
        "warmup_steps": settings.warmup_steps,
        "weight_decay": settings.weight_decay,
        "max_grad_norm": settings.max_grad_norm,
        "optim": optimizer_name(settings),
        "bf16": use_bf16(settings),
        **checkpointing_arguments(settings.gradient_checkpointing),
        "save_strategy": "steps",
        "save_steps": settings.save_steps or settings.steps_per_iteration,
        "logging_steps": settings.logging_steps,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "dataloader_num_workers": settings.dataloader_num_workers,
        "report_to": settings.report_to,
        "remove_unused_columns": False,
        "ignore_data_skip": not skip_seen_batches,
    }


def checkpointing_arguments(enabled: bool) -> dict[str, Any]:
    """Activation checkpointing under its current name (transformers 5.x renamed it)."""
    kwargs = {"use_reentrant": False}  # reentrant checkpointing breaks with a frozen vision tower
    if "activation_checkpointing" in TrainingArguments.__dataclass_fields__:
        return {"activation_checkpointing": enabled, "activation_checkpointing_kwargs": kwargs}
    return {"gradient_checkpointing": enabled, "gradient_checkpointing_kwargs": kwargs}
