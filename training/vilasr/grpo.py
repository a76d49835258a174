"""Tool GRPO: TRL's GRPOTrainer with the drawing environment (ViLaSR's stage 3).

``environment_factory`` gives every rollout its own ``DrawingEnvironment`` (reset on the
row's frames); TRL parses the model's ``<tool_call>`` blocks, runs the tool, feeds the
drawn image back (it is also in the training forward pass) and masks the tool-result
tokens out of the loss. Not ``rollout_func``: that path drops images (``images=None``).
Rewards: ViLaSR's gated total drives the update; accuracy, format and the reflection
rate are logged beside it with weight 0.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import datasets
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    PreTrainedModel,
    ProcessorMixin,
)

from agents.records import Sample
from agents.solver.frame_cache import FrameCache
from agents.solver.items import SolverItem
from agents.solver.tool_chat import make_tool_capable, system_message, user_message
from scenes.schema import Scene
from tools.drawing.environment import DrawingEnvironment
from tools.geometry.image_space import CoordinateMode
from training.data import resolve_scene_dirs
from training.grpo import vision_token_ids
from training.vilasr.rewards import VILASR_REWARDS
from training.vilasr.sft import StageOutcome


@dataclass
class ToolGRPOSettings:
    """GRPO with drawing tools. Defaults are ViLaSR's (n=8, lr 1e-6, no KL, 10 turns, 42 images)."""

    learning_rate: float = field(
        default=1e-6, metadata={"help": "Peak learning rate (ViLaSR: 1e-6)."}
    )
    max_steps: int = field(default=1, metadata={"help": "Optimizer steps for this stage."})
    num_generations: int = field(default=8, metadata={"help": "Rollouts per question (ViLaSR: 8)."})
    prompts_per_step: int = field(default=1, metadata={"help": "Questions per optimizer step."})
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (ViLaSR: 0, no reference)."})
    temperature: float = field(default=1.0, metadata={"help": "Rollout sampling temperature."})
    max_turns: int = field(default=10, metadata={"help": "Model turns per rollout (ViLaSR: 10)."})
    max_images: int = field(default=42, metadata={"help": "Images per rollout (ViLaSR: 42)."})
    max_completion_length: int = field(
        default=2048,
        metadata={"help": "Tokens over all turns of a rollout, tool results included."},
    )
    coordinates: CoordinateMode = field(
        default="pixels", metadata={"help": "'pixels' or 'norm1000'."}
    )
    frame_size: int = field(default=64, metadata={"help": "Solver frame side in pixels."})
    num_frames: int = field(default=8, metadata={"help": "Frames when a question names none."})
    rewards: list[str] = field(
        default_factory=lambda: [
            "vilasr_overall",
            "vilasr_accuracy",
            "vilasr_format",
            "vilasr_reflection",
        ],
        metadata={"help": "Reward names from training.vilasr.rewards.VILASR_REWARDS."},
    )
    reward_weights: list[float] = field(
        default_factory=lambda: [1.0, 0.0, 0.0, 0.0],
        metadata={"help": "Weight per reward; 0 logs a reward without optimising it."},
    )
    bf16: bool = field(default=False, metadata={"help": "bfloat16 mixed precision (GPU)."})
    gradient_checkpointing: bool = field(
        default=False, metadata={"help": "Trade compute for memory."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of data order and sampling."})
    report_to: str = field(default="none", metadata={"help": "Trainer loggers."})
    trainer_args: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Extra GRPOConfig fields, passed through."}
    )

    def __post_init__(self) -> None:
        unknown = [name for name in self.rewards if name not in VILASR_REWARDS]
        if unknown:
            raise ValueError(f"unknown reward(s) {unknown}; known: {sorted(VILASR_REWARDS)}")
        if len(self.reward_weights) != len(self.rewards):
            raise ValueError(
                f"{len(self.rewards)} rewards but {len(self.reward_weights)} reward_weights"
            )
        if self.num_generations < 2:
            raise ValueError("GRPO needs num_generations >= 2 (advantages compare rollouts)")


def prompt_row(item: SolverItem, images: list[Any], coordinates: CoordinateMode) -> dict[str, Any]:
    """One GRPO row: the system and user turns, the frames, and what the rewards read."""
    return {
        "prompt": [system_message(coordinates), user_message(item, images)],
        "images": images,
        "ground_truth": str(item.ground_truth),
        "answer_kind": item.answer_kind,
        "sample_id": item.sample_id,
    }


def tool_grpo_dataset(
    samples: Iterable[Sample], scenes: Any, settings: ToolGRPOSettings
) -> datasets.Dataset:
    """One row per question: the conversation's first two turns, its frames and the answer."""
    scene_dirs = resolve_scene_dirs(scenes)
    frames = FrameCache(settings.frame_size)
    loaded: dict[str, Scene] = {}
    rows = []
    for sample in samples:
        scene_id = sample.proposal.scene_id
        if sample.ground_truth is None or scene_id not in scene_dirs:
            continue
        if scene_id not in loaded:
            loaded[scene_id] = Scene.load(scene_dirs[scene_id])
        item = SolverItem.from_sample(
            sample, scene_dirs[scene_id], scene=loaded[scene_id], num_frames=settings.num_frames
        )
        rows.append(prompt_row(item, frames.for_item(item, blind=False), settings.coordinates))
    if not rows:
        raise ValueError("no question to train on: samples need a ground truth and a known scene")
    return datasets.Dataset.from_list(rows)


def make_environment(settings: ToolGRPOSettings) -> DrawingEnvironment:
    return DrawingEnvironment(coordinates=settings.coordinates, max_images=settings.max_images)


def tool_grpo_trainer(
    settings: ToolGRPOSettings,
    model_from: str | Path | None,
    dataset: datasets.Dataset,
    output_dir: Path,
    model: PreTrainedModel | None = None,
    processor: ProcessorMixin | None = None,
) -> Any:
    """A GRPOTrainer whose rollouts draw with the tools (from a folder, or model + processor)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl import GRPOConfig, GRPOTrainer

    if model is None or processor is None:
        if model_from is None:
            raise ValueError("give model_from, or both model and processor")
        processor = AutoProcessor.from_pretrained(model_from)
        model = AutoModelForImageTextToText.from_pretrained(model_from)
    make_tool_capable(processor, model)
    processor.tokenizer.padding_side = "left"  # see training.grpo: mm_token_type_ids alignment
    args = GRPOConfig(
        output_dir=str(output_dir),
        max_steps=settings.max_steps,
        learning_rate=settings.learning_rate,
        lr_scheduler_type="constant",
        per_device_train_batch_size=settings.num_generations * settings.prompts_per_step,
        num_generations=settings.num_generations,
        max_completion_length=settings.max_completion_length,
        max_tool_calling_iterations=settings.max_turns - 1,
        temperature=settings.temperature,
        beta=settings.beta,
        reward_weights=settings.reward_weights,
        logging_steps=1,
        save_strategy="no",
        report_to=settings.report_to,
        bf16=settings.bf16,
        gradient_checkpointing=settings.gradient_checkpointing,
        seed=settings.seed,
        disable_tqdm=True,
        generation_kwargs={"suppress_tokens": vision_token_ids(model)},
        **settings.trainer_args,
    )
    return GRPOTrainer(
        model=model,
        reward_funcs=[VILASR_REWARDS[name] for name in settings.rewards],
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        environment_factory=partial(make_environment, settings),
    )


def train_tool_grpo(
    settings: ToolGRPOSettings,
    samples: Iterable[Sample],
    scenes: Any,
    model_from: str | Path,
    output_dir: str | Path,
) -> StageOutcome:
    """Run tool GRPO from ``model_from``; the result is saved to ``output_dir/model``."""
    output_dir = Path(output_dir)
    dataset = tool_grpo_dataset(samples, scenes, settings)
    trainer = tool_grpo_trainer(settings, model_from, dataset, output_dir)
    trainer.train()
    model_dir = output_dir / "model"
    trainer.save_model(str(model_dir))
    trainer.processing_class.save_pretrained(model_dir)
    history = trainer.state.log_history
    losses = [float(e["loss"]) for e in history if "loss" in e]
    return StageOutcome(model_dir, losses, {}, len(dataset), [dict(e) for e in history])
