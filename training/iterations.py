"""`SolverTrainer`: one training iteration of the loop, continuing from the previous one.

    trainer = SolverTrainer(SFTSettings(model="Qwen/Qwen3-VL-4B-Instruct"), run_dir)
    result = trainer.train_iteration(samples, scenes, iteration=0)
    result = trainer.train_iteration(more_samples, scenes, iteration=1)  # carries over

Each iteration runs `steps_per_iteration` optimizer steps on its samples. Weights,
optimizer and scheduler state and the global step continue from the previous
iteration's last checkpoint; an interrupted iteration resumes from its own latest
checkpoint; a finished one returns its stored result (see `training.checkpoints`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from transformers import Trainer

from agents.records import Sample
from agents.solver.frames import FrameSettings, save_frame_settings
from training.checkpoints import (
    TrainResult,
    completed_result,
    iteration_dir,
    latest_checkpoint,
    plan_iteration,
    write_start,
)
from training.confidence import gather_confidences
from training.config import GRPOSettings, SFTSettings
from training.data import SceneSource, load_samples
from training.grpo import grpo_dataset, grpo_trainer
from training.modeling import load_for_training
from training.sft import SolverSFTTrainer, sft_dataset, sft_trainer


class SolverTrainer:
    """Trains the solver iteration by iteration in `run_dir`, with SFT or GRPO settings."""

    def __init__(
        self, settings: SFTSettings | GRPOSettings, run_dir: str | Path, stage: str | None = None
    ) -> None:
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.stage = stage or settings.method

    def train_iteration(
        self,
        samples: Iterable[Sample] | str | Path,
        scenes: SceneSource,
        iteration: int,
        model: str | Path | None = None,
    ) -> TrainResult:
        """Train on `samples` (a list or a Parquet file); `model` overrides the starting model."""
        done = completed_result(self.run_dir, self.stage, iteration)
        if done is not None:
            return done
        settings = self.settings
        base = str(model) if model is not None else settings.model
        plan = plan_iteration(self.run_dir, self.stage, iteration, base, settings.lora)
        dataset = self._dataset(load_samples(samples), scenes)
        network, processor = load_for_training(settings, plan.weights_from)
        folder = iteration_dir(self.run_dir, self.stage, iteration)
        write_start(folder, plan)
        target = plan.start_step + settings.steps_per_iteration
        trainer = self._trainer(network, processor, dataset, folder, target, plan.skip_seen_batches)
        if plan.skip_seen_batches and isinstance(trainer, SolverSFTTrainer):
            trainer.load_confidences(plan.resume_from)
        trainer.train(resume_from_checkpoint=str(plan.resume_from) if plan.resume_from else None)
        checkpoint = latest_checkpoint(folder)
        if checkpoint is None or trainer.state.global_step != target:
            raise RuntimeError(
                f"training stopped at step {trainer.state.global_step} of {target} without a final "
                f"checkpoint in {folder}; check the log above"
            )
        result = TrainResult(
            stage=self.stage,
            iteration=iteration,
            checkpoint_dir=checkpoint,
            model_dir=self._model_dir(trainer, processor, checkpoint, folder),
            global_step=trainer.state.global_step,
            start_step=plan.start_step,
            num_samples=len(dataset),
            losses=logged(trainer, "loss", plan.start_step),
            rewards=logged(trainer, "reward", plan.start_step),
            per_sample_confidence=gathered_confidences(trainer),
        )
        if trainer.is_world_process_zero():
            result.save(folder)
            # `ouroboros eval` shows the checkpoint the frames it was trained on
            seen = FrameSettings(num_frames=settings.num_frames, frame_size=settings.frame_size)
            for checkpoint_folder in {result.checkpoint_dir, result.model_dir}:
                save_frame_settings(checkpoint_folder, seen)
        trainer.accelerator.wait_for_everyone()
        return result

    def _dataset(self, samples: list[Sample], scenes: SceneSource) -> Any:
        if isinstance(self.settings, GRPOSettings):
            return grpo_dataset(self.settings, samples, scenes)
        return sft_dataset(self.settings, samples, scenes)

    def _trainer(
        self, model: Any, processor: Any, dataset: Any, folder: Path, target: int, skip: bool
    ) -> Trainer:
        if isinstance(self.settings, GRPOSettings):
            return grpo_trainer(self.settings, model, processor, dataset, folder, target, skip)
        return sft_trainer(self.settings, model, processor, dataset, folder, target, skip)

    def _model_dir(self, trainer: Trainer, processor: Any, checkpoint: Path, folder: Path) -> Path:
        """A folder from_pretrained loads: the checkpoint, or LoRA merged into the base weights."""
        if not self.settings.lora:
            return checkpoint
        merged_dir = folder / "merged"
        model = trainer.accelerator.unwrap_model(trainer.model)
        if trainer.is_world_process_zero():
            model.merge_and_unload().save_pretrained(merged_dir)
            processor.save_pretrained(merged_dir)
        return merged_dir


def logged(trainer: Trainer, key: str, after_step: int) -> list[float]:
    """Values of `key` logged during this iteration (the history also holds earlier ones)."""
    return [
        float(entry[key])
        for entry in trainer.state.log_history
        if key in entry and entry.get("step", 0) > after_step
    ]


def gathered_confidences(trainer: Trainer) -> dict[str, float]:
    """Sample id -> confidence from every process (SFT only; GRPO records none)."""
    if not isinstance(trainer, SolverSFTTrainer):
        return {}
    return gather_confidences(trainer.accelerator, trainer.confidences.first)
