"""The one rule for picking N frames out of a video, shared by solver, verifier and evaluator.

It is the rule lmms-eval uses on VSI-Bench (``np.linspace(0, T - 1, N, dtype=int)``,
positions rounded down), so our frames match those behind published numbers.
"""

from __future__ import annotations

import numpy as np


def uniform_positions(total: int, count: int) -> list[int]:
    """`count` evenly spaced positions in ``range(total)``; every position if there are fewer."""
    if count < 1:
        raise ValueError(f"frame count must be at least 1, got {count}")
    if total < 1:
        raise ValueError(f"a video needs at least one frame, got {total}")
    if total <= count:
        return list(range(total))
    return np.linspace(0, total - 1, count, dtype=int).tolist()
