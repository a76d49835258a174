"""What goes into the solver and what comes out, as validated records.

A `SolverItem` is one question with its frames (a scene folder plus frame indices, or
images already in memory) and, for scoring, its ground truth. The results are plain
records that the verifier, the feedback step and the reports read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.records import AnswerKind, Sample
from agents.solver.frames import ClipTiming, choose_frames
from scenes.schema import Scene


class SolverItem(BaseModel):
    """One question for the solver, with the frames it may look at."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    question: str = Field(min_length=1)
    options: list[str] = Field(
        default_factory=list, description="'A. chair' lines; empty if numeric."
    )
    answer_kind: AnswerKind
    ground_truth: str | None = Field(
        default=None, description="Option letter or number string; needed for confidence()."
    )
    sample_id: str | None = None
    scene_dir: Path | None = Field(
        default=None, description="Folder holding scene.json and frames/."
    )
    frame_indices: list[int] | None = Field(
        default=None, description="Frame.index values to show, in order (with scene_dir)."
    )
    images: list[Any] | None = Field(
        default=None, description="PIL images, when not read from disk."
    )
    frames_key: str | None = Field(
        default=None,
        description="Identity of the frame set: items with equal keys share one cached prefix.",
    )
    clip: ClipTiming | None = Field(
        default=None,
        description="Where the frames sit in their source video (for video input timestamps).",
    )

    @model_validator(mode="after")
    def _check(self) -> SolverItem:
        if self.images is not None and self.scene_dir is not None:
            raise ValueError("give either images or scene_dir + frame_indices, not both")
        if (self.scene_dir is None) != (self.frame_indices is None):
            raise ValueError("scene_dir and frame_indices go together")
        if self.images is not None and not all(isinstance(i, Image.Image) for i in self.images):
            raise ValueError("images must be PIL images")
        if self.answer_kind == "multiple_choice" and not self.options:
            raise ValueError("a multiple-choice item needs its options")
        return self

    @property
    def num_frames(self) -> int:
        if self.images is not None:
            return len(self.images)
        return len(self.frame_indices or [])

    def frame_set_key(self) -> str:
        """The key that groups items shown the same frames (computed from pixels if not given)."""
        if self.frames_key is not None:
            return self.frames_key
        if self.scene_dir is not None:
            indices = ",".join(str(i) for i in self.frame_indices or [])
            return f"{Path(self.scene_dir).resolve()}#{indices}"
        digest = hashlib.sha1()
        for image in self.images or []:
            digest.update(f"{image.mode}{image.size}".encode())
            digest.update(image.tobytes())
        return f"pixels:{digest.hexdigest()}"

    @classmethod
    def from_sample(
        cls,
        sample: Sample,
        scene_dir: str | Path,
        scene: Scene | None = None,
        num_frames: int = 16,
    ) -> SolverItem:
        """The item for a stored sample: its proposal's frames, or a uniform sample of the scene."""
        scene_dir = Path(scene_dir)
        scene = scene if scene is not None else Scene.load(scene_dir)
        proposal = sample.proposal
        if scene.id != proposal.scene_id:
            raise ValueError(
                f"sample {sample.sample_id} is about scene {proposal.scene_id}, "
                f"but {scene_dir} holds scene {scene.id}"
            )
        indices = choose_frames(scene, proposal.frame_indices, num_frames)
        return cls(
            question=proposal.question,
            options=list(proposal.options),
            answer_kind=proposal.answer_kind,
            ground_truth=sample.ground_truth,
            sample_id=sample.sample_id,
            scene_dir=scene_dir,
            frame_indices=indices,
        )

    @classmethod
    def from_images(
        cls,
        question: str,
        images: list[Image.Image],
        answer_kind: AnswerKind,
        options: list[str] | None = None,
        ground_truth: str | None = None,
        sample_id: str | None = None,
        frames_key: str | None = None,
        clip: ClipTiming | None = None,
    ) -> SolverItem:
        return cls(
            question=question,
            options=list(options or []),
            answer_kind=answer_kind,
            ground_truth=ground_truth,
            sample_id=sample_id,
            images=list(images),
            frames_key=frames_key,
            clip=clip,
        )


class AnswerResult(BaseModel):
    """The solver's greedy reply and its VSI-Bench parse."""

    sample_id: str | None
    reply: str = Field(description="Decoded generation, special tokens removed.")
    answer: str = Field(description="First word of the reply, trailing period stripped.")


class ConfidenceResult(BaseModel):
    """How strongly the solver believes the ground truth under teacher forcing."""

    sample_id: str | None
    confidence: float = Field(ge=0.0, le=1.0, description="exp(mean token log-probability).")
    mean_log_prob: float
    token_log_probs: list[float] = Field(description="log P of each scored answer token.")
    letter_probs: dict[str, float] | None = Field(
        default=None, description="Multiple choice: distribution over the option letters."
    )
    blind: bool = Field(default=False, description="Scored without frames (language prior).")

    def apply_to(self, sample: Sample) -> Sample:
        """A copy of `sample` carrying this confidence (never for blind scores)."""
        if self.blind:
            raise ValueError("a blind score measures the language prior; it is not the confidence")
        return sample.model_copy(
            update={"confidence": self.confidence, "letter_probs": self.letter_probs}
        )
