"""Reflective rejection sampling (ViLaSR's stage 2): keep the model's own reflective successes.

From the cold-start model, K trajectories are sampled per question (temperature 1). One
is kept when it is correct, well formatted, drew without a failed call and *reflects*
(redraws a label with a different box); at most ``keep_per_question`` per question. SFT
then continues on the kept trajectories.

Correctness: multiple choice needs the right letter. Numbers need MRA >= 0.7, i.e. a
relative error under 20% (right at the 7 lowest of VSI-Bench's 10 thresholds, 0.50-0.80);
exact agreement is rare for sampled estimates, and 0.7 keeps answers a reader would call
right while rejecting rough guesses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from agents.records import Sample
from agents.solver.config import SolverConfig
from agents.solver.items import SolverItem
from agents.solver.tool_solver import ToolSolver, ToolSolverConfig
from agents.solver.transcript import Transcript
from scenes.schema import Scene
from tools.geometry.image_space import CoordinateMode
from training.data import resolve_scene_dirs
from training.vilasr.rewards import answer_accuracy, multi_turn_format, reflected

NUMERIC_CORRECT_MRA = 0.7


@dataclass
class RRSSettings:
    """Sampling and acceptance of reflective trajectories."""

    samples_per_question: int = field(
        default=8, metadata={"help": "K trajectories sampled per question."}
    )
    keep_per_question: int = field(
        default=2, metadata={"help": "At most this many kept per question."}
    )
    numeric_threshold: float = field(
        default=NUMERIC_CORRECT_MRA,
        metadata={"help": "MRA at which a numeric answer counts as correct (0.7: under 20% off)."},
    )
    require_reflection: bool = field(default=True, metadata={"help": "Keep only reflective ones."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    max_turns: int = field(default=10, metadata={"help": "Model turns per trajectory."})
    max_new_tokens: int = field(default=256, metadata={"help": "Tokens per turn."})
    frame_size: int = field(default=64, metadata={"help": "Solver frame side in pixels."})
    num_frames: int = field(default=8, metadata={"help": "Frames when a question names none."})
    coordinates: CoordinateMode = field(
        default="pixels", metadata={"help": "'pixels' or 'norm1000'."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the sampling."})

    def __post_init__(self) -> None:
        if not 0.0 < self.numeric_threshold <= 1.0:
            raise ValueError(f"numeric_threshold must be in (0, 1], got {self.numeric_threshold}")
        if self.samples_per_question < 1 or self.keep_per_question < 1:
            raise ValueError("samples_per_question and keep_per_question must be >= 1")


def rejection_reason(transcript: Transcript, settings: RRSSettings) -> str | None:
    """Why a sampled trajectory is rejected, or None when it is kept."""
    turns = transcript.assistant_texts
    if transcript.ground_truth is None:
        return "no_ground_truth"
    accuracy = answer_accuracy(turns, transcript.ground_truth, transcript.answer_kind)
    needed = 1.0 if transcript.answer_kind == "multiple_choice" else settings.numeric_threshold
    if accuracy < needed:
        return "incorrect"
    if multi_turn_format(turns) < 1.0:
        return "bad_format"
    if transcript.tool_failures > 0:
        return "drawing_failed"
    if settings.require_reflection and not reflected(turns):
        return "no_reflection"
    return None


@dataclass
class RRSOutcome:
    kept: list[Path]
    sampled: int
    rejected: dict[str, int]


def sample_reflective(
    model_dir: str | Path,
    samples: Iterable[Sample],
    scenes: Any,
    out_dir: str | Path,
    settings: RRSSettings,
    progress: bool = False,
) -> RRSOutcome:
    """Sample, judge and save the kept trajectories to ``out_dir/<sample_id>-<k>``."""
    import torch

    torch.manual_seed(settings.seed)
    solver = ToolSolver(
        SolverConfig(model=str(model_dir), frame_size=settings.frame_size),
        ToolSolverConfig(
            max_turns=settings.max_turns,
            max_new_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
            coordinates=settings.coordinates,
        ),
    )
    scene_dirs = resolve_scene_dirs(scenes)
    loaded: dict[str, Scene] = {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kept: list[Path] = []
    rejected: dict[str, int] = {}
    sampled = 0
    chosen = [
        s for s in samples if s.ground_truth is not None and s.proposal.scene_id in scene_dirs
    ]
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(
            "reflective sampling", total=len(chosen) * settings.samples_per_question
        )
        for sample in chosen:
            scene_id = sample.proposal.scene_id
            if scene_id not in loaded:
                loaded[scene_id] = Scene.load(scene_dirs[scene_id])
            item = SolverItem.from_sample(
                sample, scene_dirs[scene_id], scene=loaded[scene_id], num_frames=settings.num_frames
            )
            accepted = 0
            for k in range(settings.samples_per_question):
                bar.advance(task)
                if accepted >= settings.keep_per_question:
                    continue
                transcript = solver.converse(item)
                sampled += 1
                reason = rejection_reason(transcript, settings)
                if reason is None:
                    kept.append(transcript.save(out_dir / f"{sample.sample_id}-{k}"))
                    accepted += 1
                else:
                    rejected[reason] = rejected.get(reason, 0) + 1
    return RRSOutcome(kept, sampled, rejected)
