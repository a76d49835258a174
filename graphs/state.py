"""The loop's graph state: small, serialisable, merged by reducers.

State carries what steers the next step (iteration, difficulty feedback, the current
solver checkpoint), counts and the history of iteration summaries; samples, scenes and
checkpoints live in the run store (graphs/store.py) and are referenced by path, never
copied here. The two models it holds (`STATE_MODELS`) are registered with the
checkpointer; checkpoints written before they were models hold plain dicts, which
`difficulty_of` and `history_of` validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from langgraph.managed import RemainingSteps

from agents.curriculum import DifficultyFeedback
from graphs.planning import ProposeJob
from graphs.summary import IterationSummary, add_history, load_history

#: Models the checkpointer may rebuild from a checkpoint (LangGraph's msgpack allowlist).
STATE_MODELS: tuple[type, ...] = (DifficultyFeedback, IterationSummary)


#: The nodes of one iteration in order (`prepare` runs once before them; graphs/build.py).
ITERATION_NODES: tuple[str, ...] = (
    "plan",
    "propose",
    "execute_verify",
    "score",
    "select",
    "train",
    "evaluate",
    "feedback",
)
#: Supersteps one iteration takes (the propose branches run side by side, in one superstep).
STEPS_PER_ITERATION = len(ITERATION_NODES)


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
    # the merged difficulty feedback (the key keeps its older name: checkpoints use it)
    feedback: DifficultyFeedback | dict[str, Any] | None
    plan: list[ProposeJob]  # this round's propose jobs (the fan-out)
    proposed: Annotated[dict[str, dict[str, int]], merge_counts]  # iteration -> scene -> n
    history: Annotated[list[IterationSummary], add_history]  # one per finished iteration
    stop_reason: str | None
    # LangGraph's managed value: supersteps left under the recursion limit (not checkpointed)
    remaining_steps: RemainingSteps


def difficulty_of(state: Mapping[str, Any]) -> DifficultyFeedback | None:
    """The state's difficulty feedback as a model (a dict only from an older checkpoint)."""
    value = state.get("feedback")
    if value is None or isinstance(value, DifficultyFeedback):
        return value
    return DifficultyFeedback.model_validate(value)


def history_of(state: Mapping[str, Any]) -> list[IterationSummary]:
    """The state's history as models (dicts only from an older checkpoint)."""
    return load_history(state.get("history") or [])
