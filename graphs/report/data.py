"""What the run report shows, read from a run directory through `RunStore`.

Per-iteration numbers are recomputed from the iteration files (samples, scored and
training sets, train.json, eval.json) rather than taken from metrics.json, so a report
of a run that is still going (or was killed mid-iteration) shows every finished step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.records import Sample
from evaluation.report import load_report, task_scores
from graphs.store import RunStore
from scenes.errors import UserError

BANDS: tuple[str, ...] = ("easy", "frontier", "hard")
DEFAULT_EASY = 0.9  # agents.curriculum.BandThresholds' defaults, used when config.yaml has none
DEFAULT_HARD = 0.1


@dataclass
class Thresholds:
    """Confidence band edges: p > easy is easy, p < hard is hard, the rest is the frontier."""

    easy: float = DEFAULT_EASY
    hard: float = DEFAULT_HARD

    def band(self, confidence: float | None) -> str | None:
        if confidence is None:
            return None
        return (
            "easy" if confidence > self.easy else "hard" if confidence < self.hard else "frontier"
        )


@dataclass
class TaskStats:
    """One task type in one iteration: candidates, acceptances and confidence bands."""

    proposed: int = 0
    accepted: int = 0
    bands: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))
    confidence_sum: float = 0.0

    @property
    def scored(self) -> int:
        return sum(self.bands.values())


@dataclass
class HeldOut:
    """A held-out evaluation: the headline overall and one score per task (all in [0, 1])."""

    overall: float | None
    overall_label: str
    tasks: dict[str, float]
    model: str


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
    tasks: dict[str, TaskStats]
    reasons: dict[str, int]
    scored: bool

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
    thresholds: Thresholds
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
    thresholds = Thresholds(
        easy=float(loop.get("easy", DEFAULT_EASY)), hard=float(loop.get("hard", DEFAULT_HARD))
    )
    started = store.iterations()
    iterations = [
        _load_iteration(store, i, thresholds) for i in started if store.samples_path(i).exists()
    ]
    finished = sorted(
        {int(e["iteration"]) for e in store.read_metrics() if e.get("iteration", -1) >= 0}
    )
    baseline_path = store.initial_eval_path
    return RunData(
        root=store.root,
        config=config,
        thresholds=thresholds,
        iteration_budget=loop.get("iterations"),
        baseline=_heldout(baseline_path) if baseline_path.exists() else None,
        iterations=iterations,
        finished=finished,
        in_progress=[i for i in started if i not in finished],
    )


def _load_iteration(store: RunStore, iteration: int, thresholds: Thresholds) -> IterationData:
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
    tasks, reasons = _tally(samples, thresholds)
    return IterationData(
        iteration=iteration,
        samples=samples,
        trained_ids=trained_ids,
        training=_training(store, iteration),
        heldout=_heldout(eval_path) if eval_path.exists() else None,
        tasks=tasks,
        reasons=reasons,
        scored=scored_path.exists(),
    )


def _tally(
    samples: list[Sample], thresholds: Thresholds
) -> tuple[dict[str, TaskStats], dict[str, int]]:
    tasks: dict[str, TaskStats] = {}
    reasons: dict[str, int] = {}
    for sample in samples:
        stats = tasks.setdefault(sample.proposal.question_type, TaskStats())
        stats.proposed += 1
        if sample.verdict != "accepted":
            reason = sample.reason or sample.verdict
            reasons[reason] = reasons.get(reason, 0) + 1
            continue
        stats.accepted += 1
        band = thresholds.band(sample.confidence)
        if band is not None:
            stats.bands[band] += 1
            stats.confidence_sum += sample.confidence or 0.0
    return dict(sorted(tasks.items())), dict(sorted(reasons.items(), key=lambda kv: -kv[1]))


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


def _heldout(path: Path) -> HeldOut:
    report = load_report(path)
    result = report.result
    with_extra = bool(result.extra_tasks) and result.overall_with_extra is not None
    return HeldOut(
        overall=result.overall_with_extra if with_extra else result.overall,
        overall_label="overall (all tasks)" if with_extra else "overall (VSI-Bench tasks)",
        tasks={name: task.score for name, task in task_scores(report).items()},
        model=report.label,
    )
