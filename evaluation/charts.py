"""Bar charts of evaluation reports: one bar per task with the overall highlighted, and
side-by-side bars for a comparison. Horizontal bars keep long task names readable."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from evaluation.evaluator import EvalReport
from evaluation.report import overall_label, task_scores

VSIBENCH_COLOUR = "#4C72B0"
OURS_COLOUR = "#55A868"
OVERALL_COLOUR = "#C44E52"
OTHER_COLOUR = "#8C8C8C"
BAR_HEIGHT_IN = 0.34


def _bars(report: EvalReport) -> list[tuple[str, float | None, str]]:
    """(label, score in %, colour) from top to bottom: overall rows, then the tasks."""
    result = report.result
    bars: list[tuple[str, float | None, str]] = []
    if result.overall is not None:
        bars.append((overall_label(report), result.overall, OVERALL_COLOUR))
    if result.extra_tasks and result.overall_with_extra is not None:
        bars.append(("overall (all tasks)", result.overall_with_extra, OVERALL_COLOUR))
    for name, task in task_scores(report).items():
        colour = OURS_COLOUR if name in result.extra_tasks else VSIBENCH_COLOUR
        bars.append((f"{name} (n={task.count})", task.score, colour))
    return [(label, None if s is None else 100 * s, colour) for label, s, colour in bars]


def _style(ax: Axes, labels: list[str], overall_rows: int) -> None:
    ax.set_yticks(range(len(labels)), labels, fontsize=10)
    for tick, label in zip(ax.get_yticklabels(), labels, strict=True):
        if label.startswith("overall"):
            tick.set_fontweight("bold")
    ax.invert_yaxis()
    ax.set_xlim(0, 108)
    ax.set_xlabel("score (%): accuracy for multiple choice, mean relative accuracy for numbers")
    ax.xaxis.grid(True, color="#DDDDDD")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if overall_rows:
        ax.axhline(overall_rows - 0.5, color="#888888", linewidth=0.8)


def _title(report: EvalReport) -> str:
    info = report.benchmark
    version = f" v{info.version}" if info.version else ""
    title = (
        f"{report.label} on {info.name}{version}\n"
        f"{info.num_rows} questions, {report.settings.get('frames', '?')} frames per question"
    )
    if report.result.overall is not None and not report.result.overall_complete:
        title += "\npartial run: the VSI-Bench overall averages only the tasks present"
    return title


def plot_report(report: EvalReport, path: str | Path) -> Path:
    """One bar per task (VSI-Bench's blue, ours green), overall bars on top in red."""
    bars = _bars(report)
    labels = [label for label, _, _ in bars]
    height = 1.6 + BAR_HEIGHT_IN * len(bars)
    fig, ax = plt.subplots(figsize=(9.5, height), layout="constrained")
    for row, (_, score, colour) in enumerate(bars):
        value = score or 0.0
        ax.barh(row, value, color=colour, height=0.7)
        ax.text(value + 1, row, "-" if score is None else f"{score:.1f}", va="center", fontsize=9)
    overall_rows = sum(colour == OVERALL_COLOUR for _, _, colour in bars)
    _style(ax, labels, overall_rows)
    ax.set_title(_title(report), fontsize=11)
    legend = [Patch(color=VSIBENCH_COLOUR, label="VSI-Bench task")]
    if report.result.extra_tasks:
        legend.append(Patch(color=OURS_COLOUR, label="our task (not in VSI-Bench overall)"))
    fig.legend(handles=legend, loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    return _save(fig, path)


def _comparable_scores(report: EvalReport) -> dict[str, float | None]:
    """Overall rows and task scores (in %) keyed by plain names, so two reports line up."""
    result = report.result
    scores: dict[str, float | None] = {}
    if result.overall is not None:
        scores["overall (VSI-Bench)"] = result.overall
    if result.extra_tasks and result.overall_with_extra is not None:
        scores["overall (all tasks)"] = result.overall_with_extra
    scores.update({name: task.score for name, task in task_scores(report).items()})
    return {name: None if s is None else 100 * s for name, s in scores.items()}


def plot_comparison(a: EvalReport, b: EvalReport, path: str | Path) -> Path:
    """Paired bars per task (A grey, B blue) with B minus A written beside each pair."""
    scores_a, scores_b = _comparable_scores(a), _comparable_scores(b)
    labels = list(dict.fromkeys([*scores_b, *scores_a]))
    labels.sort(key=lambda name: not name.startswith("overall"))
    name_a, name_b = a.label, b.label
    if name_a == name_b:
        name_a, name_b = f"A: {name_a}", f"B: {name_b}"
    fig, ax = plt.subplots(figsize=(9.5, 1.8 + 0.5 * len(labels)), layout="constrained")
    for row, name in enumerate(labels):
        score_a, score_b = scores_a.get(name), scores_b.get(name)
        ax.barh(row - 0.18, score_a or 0.0, height=0.36, color=OTHER_COLOUR)
        ax.barh(row + 0.18, score_b or 0.0, height=0.36, color=VSIBENCH_COLOUR)
        if score_a is not None and score_b is not None:
            change = score_b - score_a
            colour = "#2E7D32" if change > 0.05 else OVERALL_COLOUR if change < -0.05 else "#555555"
            end = max(score_a, score_b)
            ax.text(end + 1, row, f"{change:+.1f}", va="center", fontsize=9, color=colour)
    _style(ax, labels, sum(name.startswith("overall") for name in labels))
    ax.set_title(
        f"{name_b} vs {name_a} on {b.benchmark.name}\nnumber beside each pair: B minus A in points",
        fontsize=11,
    )
    fig.legend(
        handles=[
            Patch(color=OTHER_COLOUR, label=name_a),
            Patch(color=VSIBENCH_COLOUR, label=name_b),
        ],
        loc="outside lower center",
        ncol=2,
        fontsize=9,
        frameon=False,
    )
    return _save(fig, path)


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
