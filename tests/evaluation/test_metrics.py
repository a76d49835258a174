"""VSI-Bench's per-row metrics, checked on hand-computed cases (boundaries included)."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.metrics import (
    MRA_THRESHOLDS,
    MRA_TOLERANCES,
    exact_match,
    is_unparsable,
    mean_relative_accuracy,
    parse_number,
    parse_reply,
    score_row,
)
from evaluation.records import EvalRow


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        ("A", "A"),
        ("A.", "A"),
        ("b. table", "b"),
        ("3.5.", "3.5"),
        ("12 meters", "12"),
        ("2...", "2"),
        ("...", ""),
        ("", ""),
        (None, ""),
        # the harness strips every reply before VSI-Bench's fuzzy_matching sees it
        (" A", "A"),
        (" 4", "4"),
        ("A.\n", "A"),
        ("\n\nB. table", "B"),
        ("A\nbecause", "A\nbecause"),  # VSI-Bench splits on ' ' only, not on newlines
        ("A .", "A"),
        ("\tC ", "C"),
    ],
)
def test_parse_reply_is_the_harness_strip_then_fuzzy_matching(
    reply: str | None, parsed: str
) -> None:
    assert parse_reply(reply) == parsed


def test_exact_match_ignores_case_only() -> None:
    assert exact_match("a", "A") == 1.0
    assert exact_match("B", "b") == 1.0
    assert exact_match("B", "A") == 0.0
    assert exact_match("A)", "A") == 0.0
    assert exact_match("", "A") == 0.0


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3", 3.0),
        ("2.5", 2.5),
        (" 4 ", 4.0),
        ("1e1", 10.0),
        ("three", None),
        ("", None),
        ("3m", None),
    ],
)
def test_parse_number_is_python_float_or_none(text: str, number: float | None) -> None:
    assert parse_number(text) == number


def test_thresholds_are_vsibench_linspace() -> None:
    # linspace's ninth value is 0.8999999999999999, not 0.9.
    assert MRA_THRESHOLDS.tolist() == [
        0.5,
        0.55,
        0.6,
        0.65,
        0.7,
        0.75,
        0.8,
        0.85,
        0.8999999999999999,
        0.95,
    ]
    # 1 - theta in float64, as VSI-Bench computes it; several are off the decimal value.
    assert MRA_TOLERANCES.tolist() == [
        0.5,
        0.44999999999999996,
        0.4,
        0.35,
        0.30000000000000004,
        0.25,
        0.19999999999999996,
        0.15000000000000002,
        0.10000000000000009,
        0.050000000000000044,
    ]


@pytest.mark.parametrize(
    ("prediction", "target", "expected"),
    [
        (10.0, 10.0, 1.0),  # exact
        (9.5, 10.0, 1.0),  # error 0.05 <= 0.050000000000000044: every threshold
        (10.5, 10.0, 1.0),
        (11.0, 10.0, 0.9),  # error 0.1 <= 0.10000000000000009, fails only theta = 0.95
        (11.5, 10.0, 0.8),  # error 0.15 <= 0.15000000000000002
        (11.8, 10.0, 0.7),  # error 0.18: passes theta <= 0.80
        # error 0.2 > 0.19999999999999996: theta = 0.80 fails, so 6/10, not the 7/10 that
        # exact decimal arithmetic would give.
        (12.0, 10.0, 0.6),
        (8.0, 10.0, 0.6),
        (13.0, 10.0, 0.5),  # error 0.3 <= 0.30000000000000004
        (14.0, 10.0, 0.3),  # error 0.4 <= 0.4: theta 0.50, 0.55, 0.60
        (14.5, 10.0, 0.1),  # error 0.45 > 0.44999999999999996: only theta = 0.50
        (15.0, 10.0, 0.1),  # error 0.5 <= 0.5
        (5.0, 10.0, 0.1),
        (15.5, 10.0, 0.0),
        (0.0, 10.0, 0.0),
        (-10.0, 10.0, 0.0),
        (2.5, 2.0, 0.6),  # error 0.25 <= 0.25
        # 2.2 vs 4: |2.2 - 4| = 1.7999999999999998, / 4 = 0.44999999999999996 <= that tolerance
        (2.2, 4.0, 0.2),
        (float("nan"), 10.0, 0.0),
        (float("inf"), 10.0, 0.0),
        (None, 10.0, 0.0),
    ],
)
def test_mean_relative_accuracy_hand_cases(
    prediction: float | None, target: float, expected: float
) -> None:
    assert mean_relative_accuracy(prediction, target) == expected


def test_mean_relative_accuracy_is_fraction_of_thresholds_passed() -> None:
    """Cross-check against a direct count of |pred - gt| / gt <= 1 - theta."""
    rng = np.random.default_rng(0)
    for prediction, target in rng.uniform(0.1, 20.0, size=(200, 2)):
        passed = sum(abs(prediction - target) / target <= 1 - theta for theta in MRA_THRESHOLDS)
        assert mean_relative_accuracy(float(prediction), float(target)) == passed / 10


@pytest.mark.parametrize("target", [0.0, -3.0, float("nan"), float("inf")])
def test_mean_relative_accuracy_refuses_non_positive_ground_truth(target: float) -> None:
    with pytest.raises(ValueError, match="positive ground truth"):
        mean_relative_accuracy(1.0, target)


@pytest.mark.parametrize(
    ("question_type", "truth", "reply", "score", "unparsable"),
    [
        ("object_rel_distance", "B", "B. table", 1.0, False),
        ("route_planning", "a", "A.", 1.0, False),
        ("obj_appearance_order", "C", "The answer is C", 0.0, True),
        ("object_rel_direction_hard", "D", None, 0.0, True),
        ("object_counting", "10", "12", 0.6, False),
        ("object_abs_distance", "10", "12 meters.", 0.6, False),
        ("object_size_estimation", "10", "about twelve", 0.0, True),
        ("room_size_estimation", "20", "21.", 1.0, False),
        ("room_size_estimation", "20", "", 0.0, True),
    ],
)
def test_score_row_routes_by_vsibench_task_lists(
    question_type: str, truth: str, reply: str | None, score: float, unparsable: bool
) -> None:
    row = EvalRow(question_type=question_type, ground_truth=truth, prediction=reply)
    assert score_row(row) == score
    assert is_unparsable(row) is unparsable
