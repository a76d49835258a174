"""Per-task aggregation and VSI-Bench's overall, on hand-computed runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.records import VSIBENCH_TASKS
from common.errors import UserError
from evaluation.metrics import aggregate
from evaluation.records import EvalRow


def _rows(
    question_type: str, pairs: list[tuple[str, str | None]], **extra: object
) -> list[EvalRow]:
    return [
        EvalRow(question_type=question_type, ground_truth=truth, prediction=reply, **extra)
        for truth, reply in pairs
    ]


def full_run() -> list[EvalRow]:
    return [
        *_rows("object_counting", [("10", "10"), ("10", "12")]),  # 1.0, 0.6 -> 0.8
        *_rows("object_abs_distance", [("2.0", "2"), ("4", "2")]),  # 1.0, 0.1 -> 0.55
        *_rows("object_size_estimation", [("100", "big")]),  # 0.0
        *_rows("room_size_estimation", [("20", "21")]),  # 1.0
        *_rows("object_rel_distance", [("A", "A"), ("C", "b.")]),  # 0.5
        *_rows("object_rel_direction_easy", [("A", "a")]),  # 1.0
        *_rows("object_rel_direction_medium", [("A", "A"), ("B", "C"), ("D", "A")]),  # 1/3
        *_rows("object_rel_direction_hard", [("B", "C")]),  # 0.0
        *_rows("route_planning", [("D", "D. turn left")]),  # 1.0
        *_rows("obj_appearance_order", [("A", "B"), ("B", "sorry")]),  # 0.0
    ]


def test_full_run_per_task_scores_and_overall() -> None:
    result = aggregate(full_run())
    scores = {name: task.score for name, task in result.tasks.items()}
    direction = (1.0 + 1 / 3 + 0.0) / 3  # mean of the level accuracies, not pooled (2/5)
    assert list(scores) == list(VSIBENCH_TASKS)
    assert scores == pytest.approx(
        {
            "object_counting": 0.8,
            "object_abs_distance": 0.55,
            "object_size_estimation": 0.0,
            "room_size_estimation": 1.0,
            "object_rel_distance": 0.5,
            "object_rel_direction": direction,
            "route_planning": 1.0,
            "obj_appearance_order": 0.0,
        },
        abs=1e-12,
    )
    assert result.overall == pytest.approx(
        (0.8 + 0.55 + 1.0 + 0.5 + direction + 1.0) / 8, abs=1e-12
    )
    assert result.overall_complete
    assert result.missing_tasks == []
    assert result.extra_tasks == {}
    assert result.num_rows == 16


def test_counts_parts_and_unparsable() -> None:
    result = aggregate(full_run())
    direction = result.tasks["object_rel_direction"]
    assert direction.count == 5
    assert direction.metric == "accuracy"
    assert {level: part.count for level, part in direction.parts.items()} == {
        "object_rel_direction_easy": 1,
        "object_rel_direction_medium": 3,
        "object_rel_direction_hard": 1,
    }
    assert direction.missing_parts == []
    assert result.tasks["object_counting"].metric == "MRA:.5:.95:.05"
    assert result.tasks["object_size_estimation"].unparsable == 1  # "big"
    assert result.tasks["obj_appearance_order"].unparsable == 1  # "sorry"
    assert result.tasks["route_planning"].unparsable == 0


def test_to_vsibench_output_uses_lmms_eval_keys() -> None:
    output = aggregate(full_run()).to_vsibench_output()
    assert set(output) == {
        "object_counting_MRA:.5:.95:.05",
        "object_abs_distance_MRA:.5:.95:.05",
        "object_size_estimation_MRA:.5:.95:.05",
        "room_size_estimation_MRA:.5:.95:.05",
        "object_rel_distance_accuracy",
        "object_rel_direction_accuracy",
        "route_planning_accuracy",
        "obj_appearance_order_accuracy",
        "overall",
    }


def test_overall_sums_in_vsibench_order_to_the_last_bit() -> None:
    """VSI-Bench sums the sorted question types, then relative direction. With these scores
    the order shows in the last bit: VSIBENCH_TASKS order, or direction first, or all eight
    sorted, each give 0.3833333333333333."""
    rows = [
        *_rows("object_counting", [("10", "13.5")]),  # error 0.35: 0.4
        *_rows("object_abs_distance", [("10", "14.2")]),  # error 0.42: 0.2
        *_rows("object_size_estimation", [("10", "15")]),  # error 0.5: 0.1
        *_rows("room_size_estimation", [("10", "11.8")]),  # error 0.18: 0.7
        *_rows("object_rel_distance", [("A", "A")]),  # 1.0
        *_rows("route_planning", [("A", "B")]),  # 0.0
        *_rows("obj_appearance_order", [("A", "B")]),  # 0.0
        *_rows("object_rel_direction_easy", [("A", "A")]),  # 1.0
        *_rows("object_rel_direction_medium", [("A", "A")]),  # 1.0
        *_rows("object_rel_direction_hard", [("A", "B")]),  # 0.0
    ]
    result = aggregate(rows)
    direction = sum([1.0, 1.0, 0.0]) / 3.0
    # obj_appearance_order, object_abs_distance, object_counting, object_rel_distance,
    # object_size_estimation, room_size_estimation, route_planning, then direction.
    sorted_sum = 0.0 + 0.2 + 0.4 + 1.0 + 0.1 + 0.7 + 0.0 + direction
    assert result.overall == sorted_sum / 8 == 0.38333333333333336


def test_task_mean_equals_pandas_mean_bitwise() -> None:
    """VSI-Bench averages each task with pandas' Series.mean; ours must agree exactly."""
    rng = np.random.default_rng(1)
    predictions = rng.uniform(1.0, 30.0, size=157)
    rows = _rows("object_counting", [("10", repr(float(value))) for value in predictions])
    result = aggregate(rows)
    per_row = [
        float((abs(value - 10.0) / 10.0 <= 1 - np.linspace(0.5, 0.95, 10)).mean())
        for value in predictions
    ]
    assert result.tasks["object_counting"].score == pd.Series(per_row).mean()


def test_partial_run_reports_missing_tasks_and_averages_present_ones() -> None:
    rows = [
        *_rows("object_counting", [("4", "4")]),  # 1.0
        *_rows("object_rel_direction_easy", [("A", "B"), ("A", "A")]),  # 0.5
    ]
    result = aggregate(rows)
    assert list(result.tasks) == ["object_counting", "object_rel_direction"]
    assert result.missing_tasks == [t for t in VSIBENCH_TASKS if t not in result.tasks]
    direction = result.tasks["object_rel_direction"]
    assert direction.score == 0.5  # the present level, not (0.5 + 0 + 0) / 3
    assert direction.missing_parts == ["object_rel_direction_medium", "object_rel_direction_hard"]
    assert result.overall == 0.75
    assert not result.overall_complete


def test_all_tasks_but_one_direction_level_is_not_complete() -> None:
    rows = [row for row in full_run() if row.question_type != "object_rel_direction_hard"]
    result = aggregate(rows)
    assert result.missing_tasks == []
    assert not result.overall_complete


def test_extra_task_types_scored_by_answer_kind_and_kept_out_of_overall() -> None:
    rows = [
        *_rows("object_counting", [("4", "4")]),
        *_rows("object_height_order", [("B", "b"), ("A", "B")], options=["A. x", "B. y"]),
        *_rows("free_space_area", [("10", "12"), ("10", "10")]),  # numeric: 0.6, 1.0
        # An explicit answer kind wins over the options rule.
        *_rows("letter_count", [("3", "3")], answer_kind="multiple_choice"),
    ]
    result = aggregate(rows)
    assert list(result.extra_tasks) == ["free_space_area", "letter_count", "object_height_order"]
    assert result.extra_tasks["object_height_order"].metric == "accuracy"
    assert result.extra_tasks["object_height_order"].score == 0.5
    assert result.extra_tasks["free_space_area"].metric == "MRA:.5:.95:.05"
    assert result.extra_tasks["free_space_area"].score == pytest.approx(0.8)
    assert result.extra_tasks["letter_count"].metric == "accuracy"
    assert result.overall == 1.0  # only object_counting counts towards VSI-Bench's overall
    assert result.overall_with_extra == pytest.approx((1.0 + 0.8 + 1.0 + 0.5) / 4)


def test_by_level_breakdown() -> None:
    rows = [
        *_rows("object_rel_distance", [("A", "A"), ("A", "B")], level=1),
        *_rows("object_rel_distance", [("A", "A")], level=3),
        *_rows("object_rel_distance", [("A", "A")]),
    ]
    by_level = aggregate(rows).tasks["object_rel_distance"].by_level
    assert {level: (part.score, part.count) for level, part in by_level.items()} == {
        1: (0.5, 2),
        3: (1.0, 1),
    }


def test_accepts_plain_dicts_with_extra_keys() -> None:
    row = {"id": 7, "question": "How many?", "question_type": "object_counting"}
    result = aggregate([{**row, "ground_truth": "2", "prediction": "2"}])
    assert result.tasks["object_counting"].score == 1.0


def test_empty_run_has_no_overall() -> None:
    result = aggregate([])
    assert result.overall is None
    assert result.missing_tasks == list(VSIBENCH_TASKS)


def test_bare_relative_direction_type_is_refused() -> None:
    with pytest.raises(UserError, match="object_rel_direction_easy"):
        aggregate(_rows("object_rel_direction", [("A", "A")]))


def test_mixed_answer_kinds_in_one_extra_type_are_refused() -> None:
    rows = [*_rows("mine", [("A", "A")], options=["A. x"]), *_rows("mine", [("3", "3")])]
    with pytest.raises(UserError, match="mixes multiple-choice and numeric"):
        aggregate(rows)


@pytest.mark.parametrize("truth", ["0", "-2", "n/a"])
def test_bad_numeric_ground_truth_names_the_row(truth: str) -> None:
    rows = [EvalRow(id=42, question_type="object_counting", ground_truth=truth, prediction="1")]
    with pytest.raises(UserError, match=r"row 42 \(object_counting\)"):
        aggregate(rows)
