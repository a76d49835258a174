"""Records that cross the evaluation boundary: benchmark rows in, scored results out.

`BenchmarkRow` is one question in VSI-Bench's published row format; every benchmark
(VSI-Bench itself, ProcSpatial) yields these so one evaluator runs on all of them.
`EvalRow` is a row plus the model's reply; `EvalResult` is what `aggregate` returns and
what the CLI saves as JSON and compares across runs.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.records import AnswerKind

MetricName = Literal["accuracy", "MRA:.5:.95:.05"]


def _number_to_string(value: Any) -> Any:
    """VSI-Bench stores ground truths as strings; accept numbers from hand-written JSON."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


class BenchmarkRow(BaseModel):
    """One question in VSI-Bench's published format (nyu-visionx/VSI-Bench, split `test`).

    Extra columns (newer releases add some) are kept as they are.
    """

    model_config = ConfigDict(extra="allow")

    id: int | str
    dataset: str = Field(min_length=1, description="Video folder: arkitscenes, scannet, ...")
    scene_name: str = Field(min_length=1, description="Video file stem inside the folder.")
    question_type: str = Field(min_length=1)
    question: str = Field(min_length=1)
    ground_truth: str = Field(min_length=1, description="Option letter or number, as a string.")
    options: list[str] | None = Field(
        default=None, description="['A. chair', ...] for multiple choice; null for numeric."
    )

    @field_validator("ground_truth", mode="before")
    @classmethod
    def _ground_truth_as_string(cls, value: Any) -> Any:
        return _number_to_string(value)


class EvalRow(BaseModel):
    """A question's type and ground truth with the model's raw reply, ready to score.

    Unknown keys are ignored so a benchmark row's dict plus `prediction` validates as is.
    """

    model_config = ConfigDict(extra="ignore")

    question_type: str = Field(min_length=1)
    ground_truth: str = Field(min_length=1)
    prediction: str | None = Field(description="The raw reply; None when the model gave none.")
    answer_kind: AnswerKind | None = Field(
        default=None,
        description="Only read for task types VSI-Bench does not define; "
        "when absent, rows with options are multiple choice and the rest numeric.",
    )
    options: list[str] | None = None
    id: int | str | None = None
    level: int | None = Field(default=None, description="Difficulty level, when the row has one.")

    @field_validator("ground_truth", mode="before")
    @classmethod
    def _ground_truth_as_string(cls, value: Any) -> Any:
        return _number_to_string(value)


class PartScore(BaseModel):
    """Mean score over a subset of one task's rows (a direction level, a difficulty level)."""

    score: float
    count: int


class TaskScore(BaseModel):
    """One task's score: accuracy (multiple choice) or mean relative accuracy (numeric)."""

    task: str
    metric: MetricName
    score: float = Field(description="In [0, 1]; papers print it times 100.")
    count: int
    unparsable: int = Field(
        description="Replies that gave no number (numeric) or no option letter (multiple choice)."
    )
    parts: dict[str, PartScore] = Field(
        default_factory=dict, description="Relative direction: its easy/medium/hard levels."
    )
    missing_parts: list[str] = Field(
        default_factory=list,
        description="Relative direction levels absent from the run; the score averages the rest.",
    )
    by_level: dict[int, PartScore] = Field(
        default_factory=dict, description="Per difficulty level, for rows that carry one."
    )


class EvalResult(BaseModel):
    """Per-task scores, VSI-Bench's overall, and our own task types reported apart."""

    tasks: dict[str, TaskScore] = Field(
        description="VSI-Bench's eight tasks that the run contained, in VSIBENCH_TASKS order."
    )
    missing_tasks: list[str] = Field(description="VSI-Bench tasks with no rows in the run.")
    overall: float | None = Field(
        description="Plain mean over the present VSI-Bench task scores; None when none is present."
    )
    overall_complete: bool = Field(
        description="True only when all eight tasks and all three direction levels are present, "
        "i.e. when `overall` is comparable with published VSI-Bench numbers."
    )
    extra_tasks: dict[str, TaskScore] = Field(
        default_factory=dict, description="Task types VSI-Bench does not define (not in overall)."
    )
    overall_with_extra: float | None = Field(
        default=None, description="Plain mean over every present task score, ours included."
    )
    num_rows: int

    def to_vsibench_output(self) -> dict[str, float]:
        """The keys and values lmms-eval's VSI-Bench aggregation prints, for side-by-side checks."""
        output = {f"{name}_{task.metric}": task.score for name, task in self.tasks.items()}
        if self.overall is not None:
            output["overall"] = self.overall
        return output


@runtime_checkable
class Benchmark(Protocol):
    """What the evaluator needs from a benchmark: its rows and each row's frames."""

    name: str
    rows: list[BenchmarkRow]

    def frames_for(self, row: BenchmarkRow, count: int) -> list[Image.Image]:
        """The `count` frames the model sees for `row` (fewer when the video is shorter)."""
        ...
