"""Options: lettering, balanced answer letters, numeric-as-choice spacing."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from agents.tasks.options import (
    LetterBalancer,
    format_number,
    lettered,
    numeric_options,
    place_answer,
)


def test_lettered_and_duplicates() -> None:
    assert lettered(["chair", "bed"]) == ["A. chair", "B. bed"]
    with pytest.raises(ValueError, match="distinct"):
        lettered(["chair", "chair"])


def test_balancer_spreads_answer_letters_evenly() -> None:
    balancer, rng = LetterBalancer(), random.Random(0)
    letters = Counter()
    for _ in range(400):
        options = place_answer(
            "right", ["left", "back", "front"], key="t", rng=rng, letters=balancer
        )
        letters[next(o[0] for o in options if o.endswith("right"))] += 1
    assert letters == {"A": 100, "B": 100, "C": 100, "D": 100}


def test_balancer_respects_allowed_positions() -> None:
    balancer, rng = LetterBalancer(), random.Random(1)
    picks = Counter(balancer.pick("t", 4, rng, allowed=[0, 1]) for _ in range(50))
    assert set(picks) == {0, 1} and abs(picks[0] - picks[1]) <= 1


@pytest.mark.parametrize("ratio", [1.6, 1.35, 1.15])
@pytest.mark.parametrize(("value", "decimals"), [(3, 0), (87.4, 0), (1.23, 1), (31.7, 1), (0.4, 1)])
def test_numeric_options_are_ascending_spaced_and_hold_the_truth(
    ratio: float, value: float, decimals: int
) -> None:
    balancer, rng = LetterBalancer(), random.Random(7)
    for _ in range(20):
        options = numeric_options(
            value,
            n_options=4,
            min_ratio=ratio,
            decimals=decimals,
            key="k",
            rng=rng,
            letters=balancer,
            minimum=1.0 if decimals == 0 else 0.1,
        )
        numbers = [float(o.partition(". ")[2]) for o in options]
        assert float(format_number(value, decimals)) in numbers
        assert all(b / a >= ratio - 1e-9 for a, b in itertools.pairwise(numbers))
        assert numbers[0] >= (1.0 if decimals == 0 else 0.1)


def test_small_counts_cannot_put_the_answer_last() -> None:
    balancer, rng = LetterBalancer(), random.Random(3)
    ranks = Counter()
    for _ in range(30):
        options = numeric_options(
            2, n_options=4, min_ratio=1.6, decimals=0, key="c", rng=rng, letters=balancer
        )
        ranks[[o.partition(". ")[2] for o in options].index("2")] += 1
    assert set(ranks) == {0, 1}  # only "1" fits below 2


def test_format_number_follows_vsibench() -> None:
    assert format_number(3.0, 0) == "3"
    assert format_number(87.6, 0) == "88"
    assert format_number(1.26, 1) == "1.3"
