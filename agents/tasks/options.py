"""Multiple-choice options: lettering, distractors, and answer letters spread evenly.

VSI-Bench distributes answer letters "as uniformly as possible"; `LetterBalancer` does that
per (task, number of options) over a whole proposing run. Numeric-as-choice options follow
VSI-Bench too: distractors are multiples of the true value, re-drawn when two options are
too close; here the minimum relative spacing is the difficulty knob, and the options are
listed in ascending order so the answer's rank is what the balancer balances.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.records import OPTION_LETTERS


@dataclass
class LetterBalancer:
    """Chooses the answer position that has been used least so far (ties broken by rng)."""

    counts: dict[tuple[str, int], list[int]] = field(default_factory=dict)

    def pick(
        self, key: str, n_options: int, rng: random.Random, allowed: Sequence[int] | None = None
    ) -> int:
        used = self.counts.setdefault((key, n_options), [0] * n_options)
        choices = list(range(n_options)) if allowed is None else sorted(set(allowed))
        if not choices:
            raise ValueError("no allowed answer position")
        fewest = min(used[i] for i in choices)
        position = rng.choice([i for i in choices if used[i] == fewest])
        used[position] += 1
        return position


def lettered(texts: Sequence[str]) -> list[str]:
    """['chair', 'bed'] -> ['A. chair', 'B. bed']."""
    if len(texts) > len(OPTION_LETTERS):
        raise ValueError(f"at most {len(OPTION_LETTERS)} options, got {len(texts)}")
    if len(set(texts)) != len(texts):
        raise ValueError(f"options must be distinct, got {list(texts)}")
    return [f"{OPTION_LETTERS[i]}. {text}" for i, text in enumerate(texts)]


def place_answer(
    correct: str,
    distractors: Sequence[str],
    *,
    key: str,
    rng: random.Random,
    letters: LetterBalancer,
) -> list[str]:
    """Options with `correct` at the least-used letter, distractors shuffled around it."""
    others = list(distractors)
    rng.shuffle(others)
    position = letters.pick(key, len(others) + 1, rng)
    others.insert(position, correct)
    return lettered(others)


def format_number(value: float, decimals: int) -> str:
    """VSI-Bench style: integers without a point, otherwise a fixed number of decimals."""
    if decimals <= 0:
        return str(round(value))
    return f"{value:.{decimals}f}"


def numeric_options(
    value: float,
    *,
    n_options: int,
    min_ratio: float,
    decimals: int,
    key: str,
    rng: random.Random,
    letters: LetterBalancer,
    minimum: float | None = None,
) -> list[str]:
    """Ascending numeric options around `value`, consecutive ones at least `min_ratio` apart.

    The true value (rounded to `decimals`) is one option; distractors are spaced by a
    factor drawn in [min_ratio, min_ratio * 1.35] so their sizes give nothing away, and the
    answer's rank is chosen by the balancer among ranks the spacing allows (a count of 2
    cannot have three smaller distractors). `minimum` bounds distractors from below.
    """
    step = 10.0 ** (-decimals) if decimals > 0 else 1.0
    floor_value = step if minimum is None else max(minimum, step)
    truth = float(format_number(value, decimals))
    below_possible = 0
    probe = truth
    while below_possible < n_options - 1:
        probe = _round_to(probe / min_ratio, step, down=True)
        if probe < floor_value or probe >= truth:
            break
        below_possible += 1
    allowed = [rank for rank in range(n_options) if rank <= below_possible]
    rank = letters.pick(key, n_options, rng, allowed)
    below = _ladder(truth, rank, min_ratio, step, rng, down=True, floor_value=floor_value)
    above = _ladder(truth, n_options - 1 - rank, min_ratio, step, rng, down=False)
    values = [*reversed(below), truth, *above]
    return lettered([format_number(v, decimals) for v in values])


def _round_to(value: float, step: float, *, down: bool) -> float:
    units = value / step
    units = math.floor(units + 1e-9) if down else math.ceil(units - 1e-9)
    return round(units * step, 10)


def _ladder(
    start: float,
    count: int,
    min_ratio: float,
    step: float,
    rng: random.Random,
    *,
    down: bool,
    floor_value: float = 0.0,
) -> list[float]:
    """`count` values moving away from `start`, each at least `min_ratio` from the last.

    Factors are drawn at random; a descending ladder that would cross `floor_value` falls
    back to exact `min_ratio` steps (the spacing the caller checked to be feasible).
    """
    for jitter in (1.35, 1.35, 1.35, 1.0):
        values: list[float] = []
        current = start
        for _ in range(count):
            factor = min_ratio * rng.uniform(1.0, jitter)
            candidate = _round_to(current / factor if down else current * factor, step, down=down)
            if not down and candidate <= current:
                candidate = current + step
            values.append(candidate)
            current = candidate
        if not down or all(floor_value <= v for v in values):
            return values
    raise ValueError(f"cannot place {count} options below {start} above {floor_value}")
