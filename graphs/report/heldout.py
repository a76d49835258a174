"""Held-out numbers a reader can weigh: n, a 95% interval and the chance level per task.

Scores are recomputed from the evaluation's per-question predictions, grouped the way
the benchmark groups them (relative direction is the mean of its three levels), so the
point estimate equals the table's. Intervals: Wilson's for a task scored by accuracy in
one part; otherwise the normal interval of a mean of part means, with each part's
sample variance (0.25, the largest a score in [0, 1] can have, when a part has one
question). Chance: 1 / options for multiple choice; for numbers, the mean relative
accuracy of answering each question with the median ground truth of the task's other
questions (a blind guess that knows the answer distribution; none with one question).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.metrics import mean_relative_accuracy

Z95 = 1.959964
RELATIVE_DIRECTION_PREFIX = "object_rel_direction_"
ROWS_FILE = "procspatial.parquet"


@dataclass
class TaskInterval:
    """One task of one evaluation: score with its 95% interval, n and the chance level."""

    score: float
    low: float
    high: float
    n: int
    chance: float | None


def task_of(question_type: str) -> str:
    return (
        "object_rel_direction"
        if question_type.startswith(RELATIVE_DIRECTION_PREFIX)
        else (question_type)
    )


def option_counts(eval_dir: Path) -> dict[int, int]:
    """Question id -> number of options, from the benchmark's rows (empty when absent)."""
    path = eval_dir / ROWS_FILE
    if not path.exists():
        return {}
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["id", "options"]).to_pydict()
    return {
        int(i): len(options) for i, options in zip(table["id"], table["options"], strict=True)
        if options
    }  # fmt: skip


def wilson(successes: float, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _chance(predictions: list[dict[str, Any]], options: dict[int, int]) -> float | None:
    if all(p.get("answer_kind") == "multiple_choice" for p in predictions):
        counts = [options.get(int(p["id"])) for p in predictions]
        if any(c is None or c == 0 for c in counts):
            return None
        return statistics.fmean(1 / c for c in counts if c)
    try:
        truths = [float(p["ground_truth"]) for p in predictions]
        if len(truths) < 2:
            return None
        return statistics.fmean(
            mean_relative_accuracy(statistics.median(truths[:i] + truths[i + 1 :]), truth)
            for i, truth in enumerate(truths)
        )
    except (TypeError, ValueError):
        return None


def task_intervals(
    predictions: list[dict[str, Any]], options: dict[int, int]
) -> dict[str, TaskInterval]:
    """Per task: the benchmark's score with n, a 95% interval and the chance level."""
    parts: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for prediction in predictions:
        kind = str(prediction["question_type"])
        parts.setdefault(task_of(kind), {}).setdefault(kind, []).append(prediction)
    out: dict[str, TaskInterval] = {}
    for task, by_part in sorted(parts.items()):
        means, variances, chances = [], [], []
        for rows in by_part.values():
            scores = [float(r.get("score") or 0.0) for r in rows]
            means.append(statistics.fmean(scores))
            spread = statistics.variance(scores) if len(scores) > 1 else 0.25
            variances.append(spread / len(scores))
            chances.append(_chance(rows, options))
        score = statistics.fmean(means)
        n = sum(len(rows) for rows in by_part.values())
        all_scores = [float(r.get("score") or 0.0) for rows in by_part.values() for r in rows]
        if len(by_part) == 1 and all(s in (0.0, 1.0) for s in all_scores):
            low, high = wilson(sum(all_scores), n)
        else:
            half = Z95 * math.sqrt(sum(variances)) / len(means)
            low, high = max(0.0, score - half), min(1.0, score + half)
        chance = None if any(c is None for c in chances) else statistics.fmean(chances)
        out[task] = TaskInterval(score=score, low=low, high=high, n=n, chance=chance)
    return out


def overall_interval(tasks: dict[str, TaskInterval], overall: float | None) -> TaskInterval | None:
    """The mean over tasks, with the interval of a mean of independent task scores."""
    if not tasks or overall is None:
        return None
    variances = [((t.high - t.low) / (2 * Z95)) ** 2 for t in tasks.values()]
    half = Z95 * math.sqrt(sum(variances)) / len(tasks)
    known = [t.chance for t in tasks.values() if t.chance is not None]
    return TaskInterval(
        score=overall,
        low=max(0.0, overall - half),
        high=min(1.0, overall + half),
        n=sum(t.n for t in tasks.values()),
        chance=statistics.fmean(known) if known else None,  # over tasks with a chance level
    )
