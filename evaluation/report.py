"""Reading, writing and printing evaluation reports: per-task tables and comparisons.

Scores print as percentages (papers' convention). VSI-Bench's tasks come first, then our
own task types, then the overall rows; a partial run says so next to its overall, since
only a complete one is comparable with published numbers.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import ValidationError
from rich import box
from rich.table import Table

from agents.records import RELATIVE_DIRECTION_LEVELS, VSIBENCH_TASKS
from common.errors import UserError, field_problem
from common.io import atomic_write_text
from evaluation.evaluator import EvalReport
from evaluation.metrics import NUMERIC_TASKS, RELATIVE_DIRECTION
from evaluation.records import TaskScore

RESULTS_FILE = "results.json"
CHART_FILE = "scores.png"
COMPARE_CHART_FILE = "compare.png"


def save_report(report: EvalReport, path: str | Path) -> Path:
    """Write the report as indented JSON, atomically."""
    path = Path(path)
    atomic_write_text(path, report.model_dump_json(indent=2) + "\n")
    return path


def load_report(path: str | Path) -> EvalReport:
    """A report saved by `ouroboros eval` (a results folder works too)."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.is_file():
        raise UserError(
            f"{path}: no such results file; pass a results.json written by 'ouroboros eval'"
        )
    try:
        return EvalReport.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        raise UserError(
            f"{path}: not an 'ouroboros eval' results file ({field_problem(error.errors()[0])})"
        ) from error


def percent(score: float | None) -> str:
    return "-" if score is None else f"{100 * score:.1f}"


def task_scores(report: EvalReport) -> dict[str, TaskScore]:
    """Every scored task, VSI-Bench's first (in its order), then ours (sorted)."""
    return {**report.result.tasks, **report.result.extra_tasks}


def level_scores(report: EvalReport) -> dict[str, dict[int, float]]:
    """Task -> difficulty level -> score, from the saved per-row scores.

    Relative direction is the mean of its easy/medium/hard scores at each level, as its
    task score is the mean of theirs."""
    grouped: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for prediction in report.predictions:
        if prediction.level is not None:
            grouped[prediction.question_type][prediction.level].append(prediction.score)
    means = {
        task: {level: sum(values) / len(values) for level, values in sorted(levels.items())}
        for task, levels in grouped.items()
    }
    parts = [means.pop(level) for level in RELATIVE_DIRECTION_LEVELS if level in means]
    if parts:
        levels = sorted({level for part in parts for level in part})
        means[RELATIVE_DIRECTION] = {
            level: sum(p[level] for p in parts if level in p) / sum(level in p for p in parts)
            for level in levels
        }
    return means


def overall_label(report: EvalReport) -> str:
    return (
        "overall (VSI-Bench)" if report.result.overall_complete else "overall (VSI-Bench, partial)"
    )


def results_table(report: EvalReport) -> Table:
    """Per task: metric, rows, score, per-level scores (when rows have levels), unparsable."""
    levels_by_task = level_scores(report)
    levels = sorted({level for by_level in levels_by_task.values() for level in by_level})
    info = report.benchmark
    version = f" v{info.version}" if info.version else ""
    table = Table(
        title=f"{report.label} on {info.name}{version}: {info.num_rows} questions, "
        f"{report.settings.get('frames', '?')} frames"
        + (f", protocol {report.settings['protocol']}" if report.settings.get("protocol") else ""),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption="scores in %: accuracy, or mean relative accuracy (MRA) for numeric tasks "
        f"({', '.join(NUMERIC_TASKS)}); L1-L5: by difficulty level; "
        "no ans: replies with no option letter / no number",
    )
    table.add_column("task", overflow="fold", min_width=20)
    table.add_column("n", justify="right", min_width=3, no_wrap=True)
    table.add_column("score", justify="right", style="bold", min_width=5, no_wrap=True)
    for level in levels:
        table.add_column(f"L{level}", justify="right", min_width=4, no_wrap=True)
    table.add_column("no ans", justify="right", min_width=3, no_wrap=True)

    def add(name: str, task: TaskScore, style: str = "") -> None:
        by_level = levels_by_task.get(name, {})
        cells = [percent(by_level.get(level)) for level in levels]
        table.add_row(
            name,
            str(task.count),
            percent(task.score),
            *cells,
            str(task.unparsable),
            style=style,
        )
        for part, score in task.parts.items():
            label = "  " + part.removeprefix(RELATIVE_DIRECTION + "_")
            blanks = [""] * len(levels)
            table.add_row(label, str(score.count), percent(score.score), *blanks, "", style="dim")

    for name, task in report.result.tasks.items():
        add(name, task)
    if report.result.extra_tasks:
        table.add_section()
        for name, task in report.result.extra_tasks.items():
            add(name, task, style="cyan")
    table.add_section()
    blanks = [""] * (len(levels) + 1)
    table.add_row(overall_label(report), "", percent(report.result.overall), *blanks, style="bold")
    if report.result.extra_tasks:
        table.add_row(
            "overall (all tasks)",
            str(report.result.num_rows),
            percent(report.result.overall_with_extra),
            *blanks,
            style="bold",
        )
    return table


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "-"
    change = 100 * (b - a)
    colour = "green" if change > 0.05 else "red" if change < -0.05 else "dim"
    return f"[{colour}]{change:+.1f}[/]"


def comparison_warnings(a: EvalReport, b: EvalReport) -> list[str]:
    """Why two reports may not be comparable: other benchmark, build or settings."""
    notes = []
    if a.benchmark.name != b.benchmark.name:
        notes.append(f"different benchmarks: {a.benchmark.name} vs {b.benchmark.name}")
    elif (a.benchmark.version, a.benchmark.fingerprint) != (
        b.benchmark.version,
        b.benchmark.fingerprint,
    ):
        notes.append(
            f"different builds of {a.benchmark.name}: v{a.benchmark.version} "
            f"{a.benchmark.fingerprint} vs v{b.benchmark.version} {b.benchmark.fingerprint}"
        )
    if a.benchmark.num_rows != b.benchmark.num_rows:
        notes.append(f"different row counts: {a.benchmark.num_rows} vs {b.benchmark.num_rows}")
    if a.settings.get("frames") != b.settings.get("frames"):
        notes.append(
            f"different frame counts: {a.settings.get('frames')} vs {b.settings.get('frames')}"
        )
    for key, what in (("protocol", "protocols"), ("frame_size", "frame sizes")):
        if a.settings.get(key) != b.settings.get(key):
            notes.append(f"different {what}: {a.settings.get(key)} vs {b.settings.get(key)}")
    return notes


def compare_table(a: EvalReport, b: EvalReport) -> Table:
    """Tasks side by side, with B minus A in points (green: B is better)."""
    scores_a, scores_b = task_scores(a), task_scores(b)
    names_a, names_b = a.label, b.label
    if names_a == names_b:
        names_a, names_b = f"A: {names_a}", f"B: {names_b}"
    table = Table(
        title=f"{names_b} vs {names_a} on {b.benchmark.name}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption="scores in %; delta: B minus A in points",
    )
    table.add_column("task", overflow="fold", min_width=20)
    table.add_column(names_a, justify="right", min_width=5)
    table.add_column(names_b, justify="right", min_width=5)
    table.add_column("delta", justify="right", min_width=5, no_wrap=True)
    vsibench = [t for t in VSIBENCH_TASKS if t in a.result.tasks or t in b.result.tasks]
    ours = sorted({*a.result.extra_tasks, *b.result.extra_tasks})
    for name in vsibench:
        score_a, score_b = _score(scores_a, name), _score(scores_b, name)
        table.add_row(name, percent(score_a), percent(score_b), _delta(score_a, score_b))
    if ours:
        table.add_section()
        for name in ours:
            score_a, score_b = _score(scores_a, name), _score(scores_b, name)
            table.add_row(
                name, percent(score_a), percent(score_b), _delta(score_a, score_b), style="cyan"
            )
    table.add_section()
    for label, value_a, value_b in (
        ("overall (VSI-Bench)", a.result.overall, b.result.overall),
        ("overall (all tasks)", a.result.overall_with_extra, b.result.overall_with_extra),
    ):
        table.add_row(
            label, percent(value_a), percent(value_b), _delta(value_a, value_b), style="bold"
        )
    return table


def _score(scores: dict[str, TaskScore], name: str) -> float | None:
    task = scores.get(name)
    return None if task is None else task.score
