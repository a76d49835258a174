"""The loop's graph state: small, JSON-friendly, merged by reducers.

State carries what steers the next step (iteration, difficulty feedback, the current
solver checkpoint), counts and the metric history; samples, scenes and checkpoints
live in the run store (graphs/store.py) and are referenced by path, never copied here.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from graphs.planning import ProposeJob


def merge_counts(
    left: dict[str, dict[str, int]] | None, right: dict[str, dict[str, int]] | None
) -> dict[str, dict[str, int]]:
    """Merge {iteration: {key: n}} maps written by parallel branches (later values win per key)."""
    merged = {k: dict(v) for k, v in (left or {}).items()}
    for iteration, counts in (right or {}).items():
        merged.setdefault(iteration, {}).update(counts)
    return merged


class LoopState(TypedDict, total=False):
    run_dir: str
    iteration: int
    scene_ids: list[str]
    solver_checkpoint: str
    feedback: dict[str, Any] | None  # agents.curriculum.Feedback as JSON
    plan: list[ProposeJob]  # this round's propose jobs (the fan-out)
    proposed: Annotated[dict[str, dict[str, int]], merge_counts]  # iteration -> scene -> n
    history: Annotated[list[dict[str, Any]], operator.add]  # one entry per finished iteration
    stop_reason: str | None
