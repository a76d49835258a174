"""Supervised fine-tuning of the solver with TRL's SFTTrainer (the loop's default method).

`SolverSFTTrainer` is SFTTrainer with the solver's collator (answer-only labels, same
tokens as the solver's scoring) and a confidence read from each training forward pass.
The iteration logic (checkpoints, carry-over, resume) lives in `training.iterations`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import PreTrainedModel, ProcessorMixin
from trl import SFTConfig, SFTTrainer

from common.io import atomic_write_text
from training.arguments import training_arguments
from training.collator import PackedSolverCollator, SolverCollator
from training.confidence import CONFIDENCE_FILE, ConfidenceRecorder, gather_confidences
from training.config import SFTSettings
from training.data import SceneSource, build_packed_sft_dataset, build_sft_dataset
from training.modeling import lora_config


class SolverSFTTrainer(SFTTrainer):
    """SFTTrainer that records each sample's confidence from the forward pass it trains on."""

    def __init__(self, *args: Any, record_confidence: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record_confidence = record_confidence
        self.confidences = ConfidenceRecorder()

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        answer_segments = inputs.pop("answer_segments", None)
        sample_ids = inputs.pop("sample_ids", None)
        real_tokens = inputs.pop("real_tokens", None)
        mask = inputs.get("attention_mask")
        if not (self.record_confidence and model.training):
            loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        else:
            with self.confidences.capture(model, answer_segments, sample_ids):
                loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        packed = mask is not None and mask.dim() == 4 and mask.dtype == torch.bool
        if packed and real_tokens is not None and model.training:
            self._correct_token_count(mask, real_tokens)
        return loss

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        """Also keep the confidences seen so far, so a resumed iteration reports them all."""
        super()._save_checkpoint(model, trial)
        merged = gather_confidences(self.accelerator, self.confidences.first)
        if self.args.should_save:
            folder = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
            atomic_write_text(folder / CONFIDENCE_FILE, json.dumps(merged, indent=1) + "\n")

    def load_confidences(self, checkpoint: Path) -> None:
        """Confidences an interrupted run recorded before `checkpoint` (resume midway)."""
        path = Path(checkpoint) / CONFIDENCE_FILE
        if path.is_file():
            for sample_id, value in json.loads(path.read_text(encoding="utf-8")).items():
                self.confidences.first.setdefault(sample_id, float(value))

    def _correct_token_count(self, mask: torch.Tensor, real_tokens: torch.Tensor) -> None:
        """TRL counts tokens as attention_mask.sum(); a packed (B, 1, L, L) mask has L x L entries."""
        excess = (mask.sum() - real_tokens.sum()).reshape(1)
        excess = self.accelerator.gather_for_metrics(excess).sum().item()
        self._total_train_tokens -= int(excess) // self._tp_size
        self._metrics["train"]["num_tokens"] = [self._total_train_tokens]


def sft_dataset(settings: SFTSettings, samples: Any, scenes: SceneSource) -> datasets.Dataset:
    """One question per row, or packed rows when settings.questions_per_sequence > 1."""
    if settings.questions_per_sequence > 1:
        return build_packed_sft_dataset(
            samples,
            scenes,
            settings.num_frames,
            settings.frame_size,
            settings.questions_per_sequence,
            settings.only_accepted,
        )
    return build_sft_dataset(
        samples, scenes, settings.num_frames, settings.frame_size, settings.only_accepted
    )


def sft_trainer(
    settings: SFTSettings,
    model: PreTrainedModel,
    processor: ProcessorMixin,
    dataset: datasets.Dataset,
    output_dir: Path,
    max_steps: int,
    skip_seen_batches: bool,
) -> SolverSFTTrainer:
    """A SolverSFTTrainer for one iteration, stopping at global step `max_steps`."""
    args = SFTConfig(
        **{
            **training_arguments(settings, output_dir, max_steps, skip_seen_batches),
            "max_length": None,  # truncation would cut image tokens
            "dataset_kwargs": {"skip_prepare_dataset": True},
            **settings.trainer_args,
        }
    )
    options = {
        "train_end_of_turn": settings.train_end_of_turn,
        "include_end_of_turn": settings.include_end_of_turn,
    }
    collator: SolverCollator | PackedSolverCollator = SolverCollator(
        processor, settings.frame_size, **options
    )
    if settings.questions_per_sequence > 1:
        collator = PackedSolverCollator(model, processor, settings.frame_size, **options)
    return SolverSFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        processing_class=processor,
        peft_config=lora_config(settings),
        record_confidence=settings.record_confidence,
    )
