"""What the run report shows, read from a run directory through `RunStore`.

Per-iteration numbers are recomputed from the iteration files (samples, scored and
training sets, train.json, eval.json) with the loop's own tally (agents/bands.py), so a
report of a run that is still going (or was killed mid-iteration) shows every finished
step; the history in metrics.json (graphs/summary.py) says which iterations finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agents.bands import BANDS, BandThresholds, TaskTally, tally
from agents.records import Sample
from common.errors import UserError, field_problem
from evaluation.report import load_report
from graphs.report.heldout import TaskInterval, option_counts, overall_interval, task_intervals
from graphs.store import RunStore
from graphs.summary import HeldOutSummary, read_history


@dataclass
class HeldOut:
    """A held-out evaluation: the headline overall and one score per task (all in [0, 1])."""

    overall: float | None
    overall_label: str
    tasks: dict[str, float]
    model: str
    intervals: dict[str, TaskInterval] = field(default_factory=dict)  # n, 95% CI, chance
    overall_interval: TaskInterval | None = None


@dataclass
class Training:
    losses: list[float]
    start_step: int
    global_step: int | None
    num_samples: int
    skipped: str | None = None


@dataclass
class IterationData:
    """Everything one iteration wrote; missing files (a run in progress) leave fields empty."""

    iteration: int
    samples: list[Sample]
    trained_ids: set[str] | None
    training: Training | None
    heldout: HeldOut | None
    tasks: dict[str, TaskTally]
    reasons: dict[str, int]
    scored: bool
    quotas: dict[str, int] = field(default_factory=dict)  # requested per task (plan.json)

    @property
    def proposed(self) -> int:
        return len(self.samples)

    @property
    def accepted(self) -> int:
        return sum(1 for s in self.samples if s.verdict == "accepted")

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.proposed if self.proposed else None

    def band_totals(self) -> dict[str, int]:
        return {band: sum(t.bands[band] for t in self.tasks.values()) for band in BANDS}

    def mean_confidence(self) -> float | None:
        scored = sum(t.scored for t in self.tasks.values())
        return sum(t.confidence_sum for t in self.tasks.values()) / scored if scored else None


@dataclass
class RunData:
    root: Path
    config: dict[str, Any]
    thresholds: BandThresholds
    iteration_budget: int | None
    baseline: HeldOut | None
    iterations: list[IterationData]  # every iteration that wrote its samples
    finished: list[int]  # iterations in metrics.json: every node of theirs has run
    in_progress: list[int]  # started, not finished (running, or the run was stopped)

    @property
    def name(self) -> str:
        return self.root.resolve().name

    def task_types(self) -> list[str]:
        """Every task type that was proposed, sorted (the colour order of the charts)."""
        return sorted({task for it in self.iterations for task in it.tasks})

    def heldout_tasks(self) -> list[str]:
        evaluations = [self.baseline, *(it.heldout for it in self.iterations)]
        return sorted({task for ev in evaluations if ev is not None for task in ev.tasks})


def check_run_dir(run_dir: Path) -> RunStore:
    """The run store of `run_dir`, or a UserError saying why it is not a run directory."""
    if not run_dir.exists():
        raise UserError(f"{run_dir} does not exist; pass the folder given to 'ouroboros run --out'")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir} is a file; pass the run directory that holds it instead")
    store = RunStore(run_dir)
    if not store.config_path.exists() and not (run_dir / "iterations").is_dir():
        raise UserError(
            f"{run_dir} is not a run directory (it has neither config.yaml nor iterations/); "
            "pass the folder given to 'ouroboros run --out'"
        )
    return store


def load_run(run_dir: str | Path) -> RunData:
    store = check_run_dir(Path(run_dir))
    config = store.read_config() if store.config_path.exists() else {}
    if not isinstance(config, dict):
        raise UserError(f"{store.config_path} does not hold a mapping of settings; was it edited?")
    loop = config.get("loop") or {}
    # config.yaml of older runs may lack the band edges: the defaults fill them in
    try:
        thresholds = BandThresholds.model_validate(
            {k: loop[k] for k in ("easy", "hard") if k in loop}
        )
    except ValidationError as error:
        raise UserError(
            f"{store.config_path}: loop {field_problem(error.errors()[0])}; was it edited?"
        ) from error
    started = store.iterations()
    options = option_counts(store.eval_dir)
    iterations = [
        _load_iteration(store, i, thresholds, options)
        for i in started
        if store.samples_path(i).exists()
    ]
    finished = sorted({e.iteration for e in read_history(store) if not e.is_baseline})
    baseline_path = store.initial_eval_path
    return RunData(
        root=store.root,
        config=config,
        thresholds=thresholds,
        iteration_budget=loop.get("iterations"),
        baseline=_heldout(baseline_path, options) if baseline_path.exists() else None,
        iterations=iterations,
        finished=finished,
        in_progress=[i for i in started if i not in finished],
    )


def _load_iteration(
    store: RunStore, iteration: int, thresholds: BandThresholds, options: dict[int, int]
) -> IterationData:
    samples = store.read_samples(store.samples_path(iteration))
    scored_path = store.scored_path(iteration)
    if scored_path.exists():
        scored = {s.sample_id: s for s in store.read_samples(scored_path)}
        samples = [scored.get(s.sample_id, s) for s in samples]
    train_set = store.train_set_path(iteration)
    trained_ids = (
        {s.sample_id for s in store.read_samples(train_set)} if train_set.exists() else None
    )
    eval_path = store.eval_result_path(iteration)
    tasks, reasons = tally(samples, thresholds)
    reasons = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))  # commonest first
    return IterationData(
        iteration=iteration,
        samples=samples,
        trained_ids=trained_ids,
        training=_training(store, iteration),
        heldout=_heldout(eval_path, options) if eval_path.exists() else None,
        quotas=_quotas(store, iteration),
        tasks=tasks,
        reasons=reasons,
        scored=scored_path.exists(),
    )


def _training(store: RunStore, iteration: int) -> Training | None:
    path = store.train_result_path(iteration)
    if not path.exists():
        return None
    data = store.read_json(path)
    return Training(
        losses=[float(x) for x in data.get("losses") or []],
        start_step=int(data.get("start_step") or 0),
        global_step=data.get("global_step"),
        num_samples=int(data.get("num_samples") or 0),
        skipped=data.get("skipped"),
    )


def _heldout(path: Path, options: dict[int, int]) -> HeldOut:
    report = load_report(path)
    result = report.result
    summary = HeldOutSummary.from_report(report)
    with_extra = bool(result.extra_tasks) and result.overall_with_extra is not None
    tasks = summary.scored_tasks()
    predictions = [p.model_dump(mode="json") for p in report.predictions]
    intervals = {k: v for k, v in task_intervals(predictions, options).items() if k in tasks}
    overall = summary.overall
    counted = intervals if with_extra else {k: v for k, v in intervals.items() if k in result.tasks}
    return HeldOut(
        overall=overall,
        overall_label="overall (all tasks)" if with_extra else "overall (VSI-Bench tasks)",
        tasks=tasks,
        model=report.label,
        intervals=intervals,
        overall_interval=overall_interval(counted, overall),
    )


def _quotas(store: RunStore, iteration: int) -> dict[str, int]:
    """Questions the curriculum asked for per task type (plan.json's quotas, levels summed).

    Tolerant of what the plan holds: rows of [task, level, n] or mappings with a task name
    and a count; anything else (extra fields, other sections) is ignored."""
    path = store.iteration_dir(iteration) / "plan.json"
    if not path.exists():
        return {}
    try:
        plan = store.read_json(path)
    except ValueError:
        return {}
    rows = plan.get("quotas") if isinstance(plan, dict) else None
    requested: dict[str, int] = {}
    for row in rows or []:
        if isinstance(row, (list, tuple)) and len(row) >= 3:
            task, count = row[0], row[2]  # [task, level, n, ...]
        elif isinstance(row, dict):
            task = row.get("question_type") or row.get("task")
            count = row.get("count", row.get("quota", row.get("n")))
        else:
            continue
        if isinstance(task, str) and isinstance(count, (int, float)):
            requested[task] = requested.get(task, 0) + int(count)
    return dict(sorted(requested.items()))
