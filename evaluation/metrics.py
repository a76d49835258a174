"""VSI-Bench's metrics, reproduced operation for operation so our numbers compare with
published ones.

Reference: vision-x-nyu/thinking-in-space, `lmms_eval/tasks/vsibench/utils.py`
(`fuzzy_matching`, `exact_match`, `to_float`, `abs_dist_norm`, `mean_relative_accuracy`,
`vsibench_process_results`, `vsibench_aggregate_results`). docs/evaluation.md lists what
matches and where we deliberately differ (runs that lack some tasks, our own task types).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np

from agents.answer_scoring import MRA_THRESHOLDS as MRA_THRESHOLDS
from agents.answer_scoring import MRA_TOLERANCES as MRA_TOLERANCES
from agents.answer_scoring import exact_match as exact_match
from agents.answer_scoring import extract_number as extract_number
from agents.answer_scoring import mean_relative_accuracy as mean_relative_accuracy
from agents.answer_scoring import parse_number as parse_number
from agents.answer_scoring import parse_reply as parse_reply
from agents.records import OPTION_LETTERS, RELATIVE_DIRECTION_LEVELS, VSIBENCH_TASKS, AnswerKind
from common.errors import UserError
from evaluation.records import EvalResult, EvalRow, MetricName, PartScore, TaskScore

#: VSI-Bench's multiple-choice question types (its MCA_QUESTION_TYPES), scored by accuracy.
MULTIPLE_CHOICE_TASKS: tuple[str, ...] = (
    *RELATIVE_DIRECTION_LEVELS,
    "object_rel_distance",
    "route_planning",
    "obj_appearance_order",
)
#: VSI-Bench's numerical-answer question types (its NA_QUESTION_TYPES), scored by MRA.
NUMERIC_TASKS: tuple[str, ...] = (
    "object_abs_distance",
    "object_counting",
    "object_size_estimation",
    "room_size_estimation",
)
ACCURACY: MetricName = "accuracy"
MEAN_RELATIVE_ACCURACY: MetricName = "MRA:.5:.95:.05"
RELATIVE_DIRECTION = "object_rel_direction"

#: Order of VSI-Bench's sum for overall: pandas groupby sorts question types, then the
#: relative-direction score is appended. Summing in the same order keeps the last bit equal.
_OVERALL_SUM_ORDER: tuple[str, ...] = (
    *sorted(task for task in VSIBENCH_TASKS if task != RELATIVE_DIRECTION),
    RELATIVE_DIRECTION,
)


#: How a numeric reply becomes a number: VSI-Bench's first token through float()
#: ("first_token", thinking-in-space), or current lmms-eval's first number anywhere in the
#: reply, number words included ("first_number", its `extract_number`).
NumberParse = Literal["first_token", "first_number"]
NUMBER_PARSES: tuple[NumberParse, ...] = ("first_token", "first_number")


def answer_kind_of(row: EvalRow) -> AnswerKind:
    """VSI-Bench's own lists decide for its tasks; otherwise the row's kind, else its options."""
    if row.question_type in MULTIPLE_CHOICE_TASKS:
        return "multiple_choice"
    if row.question_type in NUMERIC_TASKS:
        return "numeric"
    if row.question_type == RELATIVE_DIRECTION:
        raise UserError(
            f"row {row.id!r}: question_type '{RELATIVE_DIRECTION}' has no level; "
            f"use one of {', '.join(RELATIVE_DIRECTION_LEVELS)}"
        )
    if row.answer_kind is not None:
        return row.answer_kind
    return "multiple_choice" if row.options else "numeric"


def _numeric_ground_truth(row: EvalRow) -> float:
    target = parse_number(row.ground_truth)
    if target is None or not (math.isfinite(target) and target > 0):
        raise UserError(
            f"row {row.id!r} ({row.question_type}): ground_truth {row.ground_truth!r} is not a "
            "positive number, so mean relative accuracy is undefined; fix the benchmark row"
        )
    return target


def reply_number(reply: str | None, numbers: NumberParse = "first_token") -> float | None:
    """The number a numeric reply gives under the chosen rule (None: no number)."""
    if numbers == "first_number":
        return extract_number(reply)
    if numbers != "first_token":
        raise ValueError(f"unknown number parse {numbers!r}; use one of {NUMBER_PARSES}")
    return parse_number(parse_reply(reply))


def parsed_answer(row: EvalRow, numbers: NumberParse = "first_token") -> str:
    """What the metric read from the reply, for reports: the token, or the extracted number."""
    if numbers == "first_number" and answer_kind_of(row) == "numeric":
        value = extract_number(row.prediction)
        return "" if value is None else repr(value)
    return parse_reply(row.prediction)


def is_unparsable(row: EvalRow, numbers: NumberParse = "first_token") -> bool:
    """Whether the reply yields no number (numeric) or no single option letter (choice)."""
    if answer_kind_of(row) == "numeric":
        return reply_number(row.prediction, numbers) is None
    parsed = parse_reply(row.prediction)
    return len(parsed) != 1 or parsed.upper() not in OPTION_LETTERS


def score_row(row: EvalRow, numbers: NumberParse = "first_token") -> float:
    """One row's score: exact match on the option letter, or MRA on the number."""
    if answer_kind_of(row) == "multiple_choice":
        return exact_match(parse_reply(row.prediction), row.ground_truth)
    return mean_relative_accuracy(reply_number(row.prediction, numbers), _numeric_ground_truth(row))


def _mean(scores: list[float]) -> float:
    """pandas' Series.mean (VSI-Bench's per-task mean) is numpy's pairwise sum / count."""
    return float(np.mean(np.asarray(scores, dtype=np.float64)))


def _metric_of(question_type: str, rows: list[EvalRow]) -> MetricName:
    """One metric per task: a task type whose rows mix answer kinds cannot be averaged."""
    kinds = {answer_kind_of(row) for row in rows}
    if len(kinds) > 1:
        raise UserError(
            f"question_type '{question_type}' mixes multiple-choice and numeric rows; "
            "give each answer kind its own question_type"
        )
    return ACCURACY if kinds == {"multiple_choice"} else MEAN_RELATIVE_ACCURACY


def _task_score(
    task: str,
    metric: MetricName,
    rows: list[EvalRow],
    scores: list[float],
    numbers: NumberParse = "first_token",
) -> TaskScore:
    levels: dict[int, list[float]] = defaultdict(list)
    for row, score in zip(rows, scores, strict=True):
        if row.level is not None:
            levels[row.level].append(score)
    return TaskScore(
        task=task,
        metric=metric,
        score=_mean(scores),
        count=len(scores),
        unparsable=sum(is_unparsable(row, numbers) for row in rows),
        by_level={
            level: PartScore(score=_mean(values), count=len(values))
            for level, values in sorted(levels.items())
        },
    )


def _relative_direction(parts: dict[str, TaskScore]) -> TaskScore:
    """VSI-Bench: sum of the easy, medium and hard accuracies divided by 3. With levels
    missing we average the present ones (VSI-Bench would count a missing level as 0)."""
    present = [level for level in RELATIVE_DIRECTION_LEVELS if level in parts]
    if len(present) == len(RELATIVE_DIRECTION_LEVELS):
        score = sum([parts[level].score for level in present]) / 3.0
    else:
        score = sum(parts[level].score for level in present) / len(present)
    return TaskScore(
        task=RELATIVE_DIRECTION,
        metric=ACCURACY,
        score=score,
        count=sum(parts[level].count for level in present),
        unparsable=sum(parts[level].unparsable for level in present),
        parts={
            level: PartScore(score=parts[level].score, count=parts[level].count)
            for level in present
        },
        missing_parts=[level for level in RELATIVE_DIRECTION_LEVELS if level not in parts],
    )


def aggregate(
    rows: Iterable[EvalRow | Mapping[str, Any]], numbers: NumberParse = "first_token"
) -> EvalResult:
    """Per-task scores, VSI-Bench's overall, and our own task types apart.

    `numbers` picks how numeric replies are read: "first_token" (the paper's harness) or
    "first_number" (current lmms-eval).

    Tasks absent from the run are listed in `missing_tasks` and `overall` averages the
    present ones; `overall_complete` says whether it is comparable with published numbers.
    """
    grouped_rows: dict[str, list[EvalRow]] = defaultdict(list)
    grouped_scores: dict[str, list[float]] = defaultdict(list)
    num_rows = 0
    for raw in rows:
        row = raw if isinstance(raw, EvalRow) else EvalRow.model_validate(raw)
        grouped_rows[row.question_type].append(row)
        grouped_scores[row.question_type].append(score_row(row, numbers))
        num_rows += 1

    per_type = {
        question_type: _task_score(
            question_type,
            _metric_of(question_type, type_rows),
            type_rows,
            grouped_scores[question_type],
            numbers,
        )
        for question_type, type_rows in grouped_rows.items()
    }
    direction_parts = {
        level: per_type.pop(level) for level in RELATIVE_DIRECTION_LEVELS if level in per_type
    }
    if direction_parts:
        per_type[RELATIVE_DIRECTION] = _relative_direction(direction_parts)

    tasks = {task: per_type[task] for task in VSIBENCH_TASKS if task in per_type}
    extra_tasks = {name: score for name, score in sorted(per_type.items()) if name not in tasks}
    present_in_sum_order = [tasks[task].score for task in _OVERALL_SUM_ORDER if task in tasks]
    overall = sum(present_in_sum_order) / len(present_in_sum_order) if tasks else None
    all_scores = present_in_sum_order + [task.score for task in extra_tasks.values()]
    direction = tasks.get(RELATIVE_DIRECTION)
    return EvalResult(
        tasks=tasks,
        missing_tasks=[task for task in VSIBENCH_TASKS if task not in tasks],
        overall=overall,
        overall_complete=len(tasks) == len(VSIBENCH_TASKS)
        and direction is not None
        and not direction.missing_parts,
        extra_tasks=extra_tasks,
        overall_with_extra=sum(all_scores) / len(all_scores) if all_scores else None,
        num_rows=num_rows,
    )
