"""Loading the solver for training: dtype, attention kernel, frozen vision tower, LoRA."""

from __future__ import annotations

import torch
from peft import LoraConfig
from transformers import AutoModelForImageTextToText, AutoProcessor, PreTrainedModel, ProcessorMixin

from training.config import CommonSettings

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}

#: Names of the vision encoder inside image-text-to-text models (Qwen-VL: `visual`).
VISION_TOWER_NAMES: tuple[str, ...] = ("visual", "vision_tower", "vision_model")
#: Parameters of the vision tower that stay trainable when it is frozen (the projector).
PROJECTOR_MARKERS: tuple[str, ...] = ("merger", "multi_modal_projector")


def use_bf16(settings: CommonSettings) -> bool:
    if settings.bf16 is not None:
        return settings.bf16
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def optimizer_name(settings: CommonSettings) -> str:
    if settings.optim != "auto":
        return settings.optim
    return "adamw_torch_fused" if torch.cuda.is_available() else "adamw_torch"


def load_for_training(
    settings: CommonSettings, weights_from: str
) -> tuple[PreTrainedModel, ProcessorMixin]:
    """Model (on the CPU; the trainer places it) and processor from a folder or hub id."""
    if settings.model_dtype not in DTYPES:
        raise ValueError(f"model_dtype {settings.model_dtype!r} is not one of {', '.join(DTYPES)}")
    if settings.freeze_projector and not settings.freeze_vision_tower:
        raise ValueError(
            "freeze_projector is set but freeze_vision_tower is not; the projector is part of "
            "the vision tower's freezing: turn freeze_vision_tower on or freeze_projector off"
        )
    try:
        processor = AutoProcessor.from_pretrained(weights_from)
        model = AutoModelForImageTextToText.from_pretrained(
            weights_from,
            dtype=DTYPES[settings.model_dtype],
            attn_implementation=settings.attn_implementation,
        )
    except OSError as error:
        raise OSError(
            f"could not load {weights_from!r} for training: {error}. Set the settings' model to a "
            "local checkpoint folder or a reachable hub id"
        ) from error
    if settings.freeze_vision_tower:
        freeze_vision_tower(model, projector=settings.freeze_projector)
    return model, processor


def vision_tower(model: torch.nn.Module) -> tuple[str, torch.nn.Module]:
    for name, module in model.named_modules():
        if name.split(".")[-1] in VISION_TOWER_NAMES:
            return name, module
    raise ValueError(
        f"{type(model).__name__} has no vision tower named one of {VISION_TOWER_NAMES}; "
        "turn freeze_vision_tower off for this model"
    )


def freeze_vision_tower(model: torch.nn.Module, projector: bool = False) -> list[str]:
    """Stop gradients into the vision encoder; its projector into the LM keeps training
    unless `projector` is set."""
    _, tower = vision_tower(model)
    frozen = []
    for name, parameter in tower.named_parameters():
        if not projector and any(marker in name for marker in PROJECTOR_MARKERS):
            continue
        parameter.requires_grad_(False)
        frozen.append(name)
    return frozen


def lora_config(settings: CommonSettings) -> LoraConfig | None:
    if not settings.lora:
        return None
    return LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=list(settings.lora_target_modules),
        task_type="CAUSAL_LM",
    )
