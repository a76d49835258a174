"""Samples and their scenes as TRL datasets, with exactly the solver's prompt text.

SFT rows are conversational: `messages` (the user turn with one image part per frame,
then the VSI-Bench prompt; the assistant turn is the ground truth) and `images` (the
frame files, decoded lazily and resized to the fixed frame size on access). GRPO rows
carry `prompt` (the user turn only) and the columns the rewards read (`ground_truth`,
`answer_kind`, ...). The text comes from `agents.solver.prompts`, never from a copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import datasets

from agents.records import Sample
from agents.solver.frames import frame_paths, resize_frames
from agents.solver.items import SolverItem
from agents.solver.prompts import assistant_message, render_question, user_message
from common.errors import UserError
from scenes.schema import Scene, list_scene_dirs

SceneSource = Mapping[str, str | Path] | str | Path

#: Columns every training row carries besides the conversation and the frames.
SAMPLE_COLUMNS: tuple[str, ...] = (
    "sample_id",
    "scene_id",
    "question_type",
    "question",
    "options",
    "answer_kind",
    "ground_truth",
    "level",
    "iteration",
    "frames_key",
)


@dataclass(frozen=True)
class TrainingSample:
    """One sample with the frame files the solver sees for it."""

    sample: Sample
    scene_dir: Path
    frame_indices: list[int]
    frame_files: list[Path]

    @property
    def frames_key(self) -> str:
        return f"{self.scene_dir.resolve()}#{','.join(map(str, self.frame_indices))}"


def resolve_scene_dirs(scenes: SceneSource) -> dict[str, Path]:
    """Scene id -> folder, from a mapping or a root folder of scene folders."""
    if isinstance(scenes, Mapping):
        return {str(scene_id): Path(folder) for scene_id, folder in scenes.items()}
    found = {}
    for folder in list_scene_dirs(scenes):
        found[Scene.load(folder).id] = folder
    if not found:
        raise UserError(
            f"{scenes}: no scene folders (with scene.json) here; generate scenes first "
            "('ouroboros scenes generate') or pass a mapping scene id -> folder"
        )
    return found


def select_samples(samples: Iterable[Sample], only_accepted: bool = True) -> list[Sample]:
    """The samples worth training on: accepted (when asked) and with a ground truth."""
    chosen = [
        sample
        for sample in samples
        if sample.ground_truth is not None and (sample.verdict == "accepted" or not only_accepted)
    ]
    return chosen


def training_samples(
    samples: Iterable[Sample],
    scenes: SceneSource,
    num_frames: int = 16,
    only_accepted: bool = True,
) -> list[TrainingSample]:
    """Samples joined with their scenes and frame files (the solver's frame choice)."""
    samples = list(samples)
    chosen = select_samples(samples, only_accepted)
    if not chosen:
        raise UserError(
            f"none of the {len(samples)} samples can be trained on: they need a ground truth"
            + (
                " and verdict 'accepted' (run the verifier, or set only_accepted=False)"
                if only_accepted
                else ""
            )
        )
    scene_dirs = resolve_scene_dirs(scenes)
    loaded: dict[str, Scene] = {}
    result = []
    for sample in chosen:
        scene_id = sample.proposal.scene_id
        if scene_id not in scene_dirs:
            raise UserError(
                f"sample {sample.sample_id} is about scene {scene_id!r}, which is not among the "
                f"{len(scene_dirs)} scenes given; pass its folder too"
            )
        if scene_id not in loaded:
            loaded[scene_id] = Scene.load(scene_dirs[scene_id])
        scene, folder = loaded[scene_id], scene_dirs[scene_id]
        item = SolverItem.from_sample(sample, folder, scene=scene, num_frames=num_frames)
        indices = list(item.frame_indices or [])
        result.append(TrainingSample(sample, folder, indices, frame_paths(scene, folder, indices)))
    return result


def sample_columns(entry: TrainingSample) -> dict[str, Any]:
    sample, proposal = entry.sample, entry.sample.proposal
    return {
        "sample_id": sample.sample_id,
        "scene_id": proposal.scene_id,
        "question_type": proposal.question_type,
        "question": proposal.question,
        "options": list(proposal.options),
        "answer_kind": proposal.answer_kind,
        "ground_truth": str(sample.ground_truth).strip(),
        "level": proposal.level,
        "iteration": sample.iteration,
        "frames_key": entry.frames_key,
    }


def sft_messages(sample: Sample, num_images: int) -> list[dict[str, Any]]:
    """The conversation the solver is trained on: its exact prompt, then the ground truth."""
    proposal = sample.proposal
    text = render_question(proposal.question, proposal.options, proposal.answer_kind)
    return [user_message(text, num_images), assistant_message(str(sample.ground_truth).strip())]


@cache
def answer_tags_instruction(answer_kind: str) -> str:
    """The GRPO format instruction (training/prompts/answer_tags.txt) for an answer kind."""
    text = resources.files("training").joinpath("prompts", "answer_tags.txt").read_text("utf-8")
    example = "B" if answer_kind == "multiple_choice" else "3.5"
    return Template(text.strip()).substitute(example=example)


def grpo_prompt(
    sample: Sample, num_images: int, answer_format: str = "tags"
) -> list[dict[str, Any]]:
    """The rollout prompt: the solver's text, plus the answer-tag instruction for 'tags'."""
    proposal = sample.proposal
    text = render_question(proposal.question, proposal.options, proposal.answer_kind)
    if answer_format == "tags":
        text = f"{text}\n{answer_tags_instruction(proposal.answer_kind)}"
    elif answer_format != "plain":
        raise ValueError(f"answer_format must be 'plain' or 'tags', got {answer_format!r}")
    return [user_message(text, num_images)]


class FixedSizeFrames:
    """Dataset transform: decoded frames resized to size x size, so rollouts and batches agree.

    Mixed image sizes break VLM GRPO with vLLM rollouts (image-token counts disagree
    between the generator and the trainer), so every frame gets the solver's fixed size.
    """

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if "images" in batch:
            batch["images"] = [resize_frames(list(images), self.size) for images in batch["images"]]
        return batch


def _dataset(rows: list[dict[str, Any]], frame_size: int) -> datasets.Dataset:
    dataset = datasets.Dataset.from_list(rows)
    dataset = dataset.cast_column("images", datasets.Sequence(datasets.Image()))
    return dataset.with_transform(FixedSizeFrames(frame_size))


def build_sft_dataset(
    samples: Iterable[Sample],
    scenes: SceneSource,
    num_frames: int = 16,
    frame_size: int = 448,
    only_accepted: bool = True,
) -> datasets.Dataset:
    """Conversational SFT rows: `messages`, `images` (fixed size on access) and sample columns."""
    rows = []
    for entry in training_samples(samples, scenes, num_frames, only_accepted):
        row = sample_columns(entry)
        row["messages"] = sft_messages(entry.sample, len(entry.frame_files))
        row["images"] = [str(path) for path in entry.frame_files]
        rows.append(row)
    return _dataset(rows, frame_size)


def build_packed_sft_dataset(
    samples: Iterable[Sample],
    scenes: SceneSource,
    num_frames: int = 16,
    frame_size: int = 448,
    questions_per_sequence: int = 8,
    only_accepted: bool = True,
) -> datasets.Dataset:
    """Rows of up to `questions_per_sequence` questions that show the same frames.

    Each row is `images` (the shared frames) and `questions` (the sample columns of each
    question), for `training.collator.PackedSolverCollator`.
    """
    groups: dict[str, list[TrainingSample]] = {}
    for entry in training_samples(samples, scenes, num_frames, only_accepted):
        groups.setdefault(entry.frames_key, []).append(entry)
    rows = []
    for key, members in groups.items():
        for first in range(0, len(members), questions_per_sequence):
            chunk = members[first : first + questions_per_sequence]
            rows.append(
                {
                    "frames_key": key,
                    "scene_id": chunk[0].sample.proposal.scene_id,
                    "images": [str(path) for path in chunk[0].frame_files],
                    "questions": [sample_columns(entry) for entry in chunk],
                }
            )
    return _dataset(rows, frame_size)


def build_grpo_dataset(
    samples: Iterable[Sample],
    scenes: SceneSource,
    num_frames: int = 16,
    frame_size: int = 448,
    answer_format: str = "tags",
    only_accepted: bool = True,
) -> datasets.Dataset:
    """GRPO rows: conversational `prompt`, `images`, and the columns the rewards read."""
    rows = []
    for entry in training_samples(samples, scenes, num_frames, only_accepted):
        row = sample_columns(entry)
        row["prompt"] = grpo_prompt(entry.sample, len(entry.frame_files), answer_format)
        row["images"] = [str(path) for path in entry.frame_files]
        rows.append(row)
    return _dataset(rows, frame_size)


def load_samples(source: str | Path | Sequence[Sample]) -> list[Sample]:
    """Samples from a Parquet file written by agents.sample_io, or a list already in memory."""
    if isinstance(source, (str, Path)):
        from agents.sample_io import read_samples

        return read_samples(source)
    return list(source)
