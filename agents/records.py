"""Records that cross boundaries between proposer, sandbox, verifier, solver and trainer.

A `Proposal` is what any proposer emits (programmatic or LLM): a question plus the
program that derives its answer. A `Sample` is a proposal after execution and
verification, with its ground truth, verdict and (later) the solver's confidence.
Samples are stored as Parquet rows via `Sample.to_row` / `Sample.from_row`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AnswerKind = Literal["multiple_choice", "numeric"]
Verdict = Literal["pending", "accepted", "rejected"]

OPTION_LETTERS = "ABCDEFGHIJ"


def option_text(option: str) -> str:
    """'A. chair' -> 'chair': the text of a lettered option."""
    return option.partition(". ")[2]


#: VSI-Bench's eight task names (relative direction counted once), in its order.
VSIBENCH_TASKS: tuple[str, ...] = (
    "object_counting",
    "object_abs_distance",
    "object_size_estimation",
    "room_size_estimation",
    "object_rel_distance",
    "object_rel_direction",
    "route_planning",
    "obj_appearance_order",
)
RELATIVE_DIRECTION_LEVELS: tuple[str, ...] = (
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
)


class Proposal(BaseModel):
    """A question about one scene, with the program that computes its answer."""

    model_config = ConfigDict(extra="forbid")

    scene_id: str = Field(min_length=1)
    question_type: str = Field(min_length=1, description="VSI-Bench name where one exists.")
    question: str = Field(min_length=1)
    options: list[str] = Field(
        default_factory=list,
        description="Multiple-choice options as 'A. chair'; empty for numeric.",
    )
    answer_kind: AnswerKind
    program: str = Field(min_length=1, description="Python source defining solve(scene) -> answer.")
    level: int = Field(default=1, ge=1, le=5, description="Difficulty level of the task template.")
    difficulty: dict[str, float | int | str] = Field(
        default_factory=dict, description="The settings behind the level (gaps, ratios, counts...)."
    )
    frame_indices: list[int] | None = Field(
        default=None, description="Frames the solver sees; None means uniform sampling."
    )
    referenced_instances: list[int] = Field(
        default_factory=list, description="Instance ids the question names (for grounding checks)."
    )
    proposer_id: str = Field(default="programmatic")
    stated_answer: str | None = Field(
        default=None, description="The proposer's own answer, when it states one (LLM proposers)."
    )
    template_id: str | None = Field(default=None, description="Which paraphrase produced the text.")

    @field_validator("options")
    @classmethod
    def _options_are_lettered(cls, options: list[str]) -> list[str]:
        if len(options) > len(OPTION_LETTERS):
            raise ValueError(f"at most {len(OPTION_LETTERS)} options, got {len(options)}")
        for i, option in enumerate(options):
            expected = f"{OPTION_LETTERS[i]}. "
            if not option.startswith(expected):
                raise ValueError(f"option {i} must start with '{expected}', got {option!r}")
        return options

    @property
    def option_letters(self) -> list[str]:
        return [OPTION_LETTERS[i] for i in range(len(self.options))]

    def fingerprint(self) -> str:
        """Stable id from scene, normalised question, options and frames (for ids and de-duplication).

        Frames count because the same words can ask about different frames (camera motion
        between frames i and j)."""
        text = " ".join(self.question.lower().split())
        payload = json.dumps(
            [self.scene_id, self.question_type, text, self.options, self.frame_indices]
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Sample(BaseModel):
    """An executed, verified proposal: what gets scored, trained on, audited."""

    model_config = ConfigDict(extra="forbid")

    sample_id: str
    proposal: Proposal
    iteration: int = 0
    ground_truth: str | None = Field(
        default=None, description="Option letter or number as a string, as VSI-Bench stores it."
    )
    executed_value: Any = Field(default=None, description="The program's JSON return value.")
    execution_error: str | None = None
    verdict: Verdict = "pending"
    reason: str | None = Field(
        default=None, description="Why it was rejected (an enum value), or a note."
    )
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    letter_probs: dict[str, float] | None = None
    learnability: float | None = Field(
        default=None, ge=0.0, le=1.0, description="The difficulty signal's learnability value."
    )

    @classmethod
    def from_proposal(cls, proposal: Proposal, iteration: int = 0) -> Sample:
        return cls(sample_id=proposal.fingerprint(), proposal=proposal, iteration=iteration)

    def to_row(self) -> dict[str, Any]:
        """Flat row for Parquet: proposal fields inline, nested values as JSON strings."""
        row = self.proposal.model_dump()
        row["options"] = list(row["options"])
        row["difficulty"] = json.dumps(row["difficulty"], sort_keys=True)
        row["frame_indices"] = json.dumps(row["frame_indices"])
        row["referenced_instances"] = json.dumps(row["referenced_instances"])
        row.update(
            sample_id=self.sample_id,
            iteration=self.iteration,
            ground_truth=self.ground_truth,
            executed_value=json.dumps(self.executed_value),
            execution_error=self.execution_error,
            verdict=self.verdict,
            reason=self.reason,
            confidence=self.confidence,
            letter_probs=json.dumps(self.letter_probs),
            learnability=self.learnability,
        )
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Sample:
        proposal_fields = {name: row[name] for name in Proposal.model_fields if name in row}
        proposal_fields["options"] = list(proposal_fields.get("options") or [])
        for key in ("difficulty", "frame_indices", "referenced_instances"):
            if isinstance(proposal_fields.get(key), str):
                proposal_fields[key] = json.loads(proposal_fields[key])
        return cls(
            sample_id=row["sample_id"],
            proposal=Proposal(**proposal_fields),
            iteration=int(row.get("iteration") or 0),
            ground_truth=row.get("ground_truth"),
            executed_value=json.loads(row["executed_value"]) if row.get("executed_value") else None,
            execution_error=row.get("execution_error"),
            verdict=row.get("verdict") or "pending",
            reason=row.get("reason"),
            confidence=row.get("confidence"),
            letter_probs=json.loads(row["letter_probs"]) if row.get("letter_probs") else None,
            learnability=row.get("learnability"),
        )
