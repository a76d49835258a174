"""Multi-turn SFT on drawing transcripts (ViLaSR's cold start and its RRS continuation).

Loss is the mean cross-entropy over assistant tokens only (see ``collator.py``). The
vision tower and, optionally, its projector are frozen as in ViLaSR's cold start. Each
sample's confidence is recorded on its first training forward pass, on the final answer:
``exp(mean log P)`` over the tokens inside the last ``<answer>`` tags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    PreTrainedModel,
    Trainer,
    TrainingArguments,
)

from agents.solver.tool_chat import make_tool_capable
from agents.solver.transcript import Transcript
from training.modeling import PROJECTOR_MARKERS, freeze_vision_tower, vision_tower
from training.vilasr.collator import MultiTurnCollator


@dataclass
class MultiTurnSFTSettings:
    """Multi-turn SFT (ViLaSR's cold start: lr 1e-5, vision tower and projector frozen)."""

    learning_rate: float = field(default=1e-5, metadata={"help": "Peak learning rate (AdamW)."})
    max_steps: int = field(default=10, metadata={"help": "Optimizer steps for this stage."})
    per_device_batch_size: int = field(default=1, metadata={"help": "Transcripts per step."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Steps to accumulate."})
    freeze_vision_tower: bool = field(default=True, metadata={"help": "Freeze the ViT blocks."})
    freeze_projector: bool = field(
        default=True, metadata={"help": "Also freeze the vision-language projector (merger)."}
    )
    train_end_of_turn: bool = field(
        default=True, metadata={"help": "Train each assistant turn's end token (stops turns)."}
    )
    bf16: bool = field(default=False, metadata={"help": "bfloat16 mixed precision (GPU)."})
    gradient_checkpointing: bool = field(
        default=False, metadata={"help": "Trade compute for memory."}
    )
    seed: int = field(default=0, metadata={"help": "Seed for data order."})
    logging_steps: int = field(default=1, metadata={"help": "Log the loss every N steps."})
    report_to: str = field(default="none", metadata={"help": "Trainer loggers ('none', 'wandb')."})

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")


class TranscriptDataset(Dataset):
    """Transcript folders, loaded on access (images stay on disk until batched)."""

    def __init__(self, folders: list[Path]) -> None:
        if not folders:
            raise ValueError("no transcripts to train on: the trajectory folder list is empty")
        self.folders = [Path(f) for f in folders]

    def __len__(self) -> int:
        return len(self.folders)

    def __getitem__(self, index: int) -> Transcript:
        return Transcript.load(self.folders[index])


def freeze_for_cold_start(model: PreTrainedModel, projector: bool) -> list[str]:
    """Freeze the vision tower (and its projector when asked); returns frozen parameter names."""
    frozen = freeze_vision_tower(model)
    if projector:
        _, tower = vision_tower(model)
        for name, parameter in tower.named_parameters():
            if any(marker in name for marker in PROJECTOR_MARKERS):
                parameter.requires_grad_(False)
                frozen.append(name)
    return frozen


class MultiTurnSFTTrainer(Trainer):
    """Trainer with assistant-only loss and final-answer confidences recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.confidences: dict[str, float] = {}

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        labels = inputs.pop("labels")
        answer_mask = inputs.pop("answer_mask")
        sample_ids = inputs.pop("sample_ids", None)
        outputs = model(**inputs)
        logits = outputs.logits[:, :-1].float()
        targets = labels[:, 1:]
        log_probs = torch.log_softmax(logits, dim=-1)
        token_lp = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        trained = targets != -100
        loss = -(token_lp * trained).sum() / trained.sum().clamp(min=1)
        if model.training and sample_ids is not None:
            self._record(token_lp.detach(), answer_mask[:, 1:].bool() & trained, sample_ids)
        return (loss, outputs) if return_outputs else loss

    def _record(self, token_lp: torch.Tensor, mask: torch.Tensor, sample_ids: list[Any]) -> None:
        for row, sample_id in enumerate(sample_ids):
            if sample_id is None or sample_id in self.confidences or not mask[row].any():
                continue
            mean = float(token_lp[row][mask[row]].mean())
            self.confidences[sample_id] = min(1.0, math.exp(mean))


@dataclass
class StageOutcome:
    """What one stage produced: a loadable model folder and what it logged."""

    model_dir: Path
    losses: list[float]
    confidences: dict[str, float]
    num_samples: int
    metrics: list[dict[str, Any]] = field(default_factory=list)


def train_multi_turn_sft(
    settings: MultiTurnSFTSettings,
    transcripts: list[Path],
    model_from: str | Path,
    output_dir: str | Path,
) -> StageOutcome:
    """Fine-tune ``model_from`` on transcript folders; the result is saved to ``output_dir/model``."""
    output_dir = Path(output_dir)
    processor = AutoProcessor.from_pretrained(model_from)
    model = AutoModelForImageTextToText.from_pretrained(model_from)
    make_tool_capable(processor, model)
    if settings.freeze_vision_tower:
        freeze_for_cold_start(model, settings.freeze_projector)
    arguments = TrainingArguments(
        output_dir=str(output_dir),
        max_steps=settings.max_steps,
        per_device_train_batch_size=settings.per_device_batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        learning_rate=settings.learning_rate,
        lr_scheduler_type="constant",
        logging_steps=settings.logging_steps,
        save_strategy="no",
        report_to=settings.report_to,
        remove_unused_columns=False,
        bf16=settings.bf16,
        gradient_checkpointing=settings.gradient_checkpointing,
        seed=settings.seed,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = MultiTurnSFTTrainer(
        model=model,
        args=arguments,
        train_dataset=TranscriptDataset(transcripts),
        data_collator=MultiTurnCollator(processor, settings.train_end_of_turn),
    )
    trainer.train()
    model_dir = output_dir / "model"
    trainer.save_model(str(model_dir))
    processor.save_pretrained(model_dir)
    losses = [float(e["loss"]) for e in trainer.state.log_history if "loss" in e]
    return StageOutcome(
        model_dir,
        losses,
        dict(trainer.confidences),
        len(transcripts),
        list(trainer.state.log_history),
    )
