"""One iteration's summary: written once by the feedback node, read by everything after.

`IterationSummary` is an entry of the loop's history (graph state `history`, and the run
directory's `metrics.json`): what was proposed and accepted, the per-task tally and
bands, the per-arm difficulty feedback, the requested and made quotas, training, the
held-out score and why the loop stopped. The progress table, the report and the
benchmarks read it through this model. The first entry (iteration -1) holds only the
starting solver's held-out score.

Files and checkpoints written before this model existed hold the same keys as plain
dicts (band counts only where non-zero, no `stop_reason`); they validate into it, and are
written back with every field (keys they lacked get their defaults, unknown keys stay).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.bands import BandThresholds, TaskTally
from agents.curriculum import ArmStats
from common.errors import UserError, field_problem

if TYPE_CHECKING:  # for annotations only: keeps this module light for the progress display
    from graphs.store import RunStore

#: The index of the entry that holds the starting solver's held-out score.
BASELINE_ITERATION = -1


class HeldOutSummary(BaseModel):
    """A held-out evaluation in three numbers' worth: overall, VSI-Bench overall, per task."""

    model_config = ConfigDict(extra="allow")

    overall: float | None = Field(
        None, description="Mean over every task asked (VSI-Bench's and ours), in [0, 1]."
    )
    vsibench_overall: float | None = Field(
        None, description="VSI-Bench's overall over its own tasks only."
    )
    tasks: dict[str, float | None] = Field(
        default_factory=dict, description="Score per held-out task (relative direction merged)."
    )

    @classmethod
    def from_report(cls, report: Any) -> HeldOutSummary:
        """From an evaluation.evaluator.EvalReport (or its JSON)."""
        from evaluation.evaluator import EvalReport
        from evaluation.report import task_scores

        if not isinstance(report, EvalReport):
            report = EvalReport.model_validate(report)
        return cls(
            overall=headline_overall(report),
            vsibench_overall=report.result.overall,
            tasks={name: task.score for name, task in task_scores(report).items()},
        )

    def scored_tasks(self) -> dict[str, float]:
        """Tasks with a score (the curriculum's held-out floor reads these)."""
        return {name: score for name, score in self.tasks.items() if score is not None}


def headline_overall(report: Any) -> float | None:
    """The overall a run is judged by: over every task when ours were asked too."""
    result = report.result
    if result.extra_tasks and result.overall_with_extra is not None:
        return result.overall_with_extra
    return result.overall


class IterationSummary(BaseModel):
    """One finished iteration (or, at iteration -1, the starting solver's evaluation)."""

    model_config = ConfigDict(extra="allow")

    iteration: int = Field(description="The iteration; -1 for the starting solver's entry.")
    proposed: int = Field(0, ge=0, description="Candidates the proposer wrote.")
    accepted: int = Field(0, ge=0, description="Candidates the verifier kept.")
    trained_on: int = Field(0, ge=0, description="Samples the training step used.")
    reasons: dict[str, int] = Field(
        default_factory=dict, description="Rejections per verifier reason."
    )
    tasks: dict[str, TaskTally] = Field(
        default_factory=dict, description="Per question type: proposed, accepted, bands."
    )
    thresholds: BandThresholds | None = Field(
        None, description="The band edges `tasks` and `arms` were counted with (loop.easy/hard)."
    )
    arms: list[ArmStats] = Field(
        default_factory=list,
        description="This round's difficulty feedback per (question type, level), unmerged.",
    )
    train_loss: list[float] = Field(default_factory=list, description="Loss per logged step.")
    global_step: int | None = Field(None, description="The trainer's step after this iteration.")
    heldout: HeldOutSummary | None = Field(None, description="Held-out score after training.")
    quotas: list[tuple[str, int, int, int]] = Field(
        default_factory=list, description="[question type, level, requested, made] per arm."
    )
    quota_shift: float | None = Field(
        None,
        description="Half the L1 distance between this and last round's quota shares "
        "(0: same split, 1: disjoint); None in the first round.",
    )
    signal: str | None = Field(None, description="The difficulty signal (loop.signal).")
    stop_reason: str | None = Field(None, description="Why the loop stopped after this entry.")

    @property
    def is_baseline(self) -> bool:
        return self.iteration == BASELINE_ITERATION

    def dump(self) -> dict[str, Any]:
        """JSON for metrics.json: every field, so plain-JSON readers find every key."""
        return self.model_dump(mode="json")


def load_history(entries: Iterable[IterationSummary | dict[str, Any]]) -> list[IterationSummary]:
    """Entries as models; dicts (metrics.json, older checkpoints) are validated once."""
    return [
        entry if isinstance(entry, IterationSummary) else IterationSummary.model_validate(entry)
        for entry in entries
    ]


def add_history(
    left: Sequence[IterationSummary | dict[str, Any]] | None,
    right: Sequence[IterationSummary | dict[str, Any]] | None,
) -> list[IterationSummary]:
    """The graph state's reducer for `history`: append, as models."""
    return load_history([*(left or []), *(right or [])])


def dump_history(history: Iterable[IterationSummary | dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry.dump() for entry in load_history(history)]


def read_history(store: RunStore) -> list[IterationSummary]:
    """metrics.json of a run directory as models (empty when the file is not there yet);
    a file that is not a history is a UserError naming the entry and field."""
    entries = store.read_metrics()
    if not isinstance(entries, list):
        raise UserError(f"{store.metrics_path} is not a list of iterations; was it edited?")
    history = []
    for index, entry in enumerate(entries):
        try:
            history.extend(load_history([entry]))
        except ValidationError as error:
            raise UserError(
                f"{store.metrics_path}: entry {index} is not an iteration summary "
                f"({field_problem(error.errors()[0])}); was it edited?"
            ) from error
    return history


def write_history(store: RunStore, history: Iterable[IterationSummary | dict[str, Any]]) -> None:
    store.write_metrics(dump_history(history))


def latest_heldout(history: Iterable[IterationSummary]) -> HeldOutSummary | None:
    """The newest held-out evaluation in the history (the baseline counts)."""
    found = [entry.heldout for entry in history if entry.heldout is not None]
    return found[-1] if found else None
