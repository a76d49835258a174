"""How ProcSpatial's questions are planned and kept: arms, quotas, balance, row order.

Pure functions of a version's pinned task list (`PROCSPATIAL_TASKS`, looked up in the task
registry) and the executed samples, so the balance rules can be tested without rendering
anything; `procspatial_build.py` runs them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from agents.curriculum import Arm
from agents.records import AnswerKind, Sample
from agents.tasks import TASKS, Task
from common.errors import UserError
from evaluation.metrics import parse_number
from evaluation.procspatial import (
    NAME,
    PROCSPATIAL_TASKS,
    PROCSPATIAL_VERSION,
    VSIBENCH_QUESTION_TYPES,
    benchmark_question_type,
)

#: The rows file's columns: VSI-Bench's seven, then ours.
ROW_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("dataset", pa.string()),
        ("scene_name", pa.string()),
        ("question_type", pa.string()),
        ("task", pa.string()),
        ("question", pa.string()),
        ("ground_truth", pa.string()),
        ("options", pa.list_(pa.string())),
        ("answer_kind", pa.string()),
        ("level", pa.int64()),
        ("frame_indices", pa.list_(pa.int64())),
        ("difficulty", pa.string()),
        ("sample_id", pa.string()),
    ]
)


def pinned_tasks(
    version: str = PROCSPATIAL_VERSION, registry: Mapping[str, Task] | None = None
) -> dict[str, Task]:
    """The tasks `version` asks, in its pinned order, from `registry` (default: `TASKS`).

    The live registry only supplies the code; which tasks a version asks never follows it,
    so a newly registered task cannot change an existing benchmark."""
    registry = TASKS if registry is None else registry
    if version not in PROCSPATIAL_TASKS:
        known = ("versions " if len(PROCSPATIAL_TASKS) > 1 else "version ") + ", ".join(
            PROCSPATIAL_TASKS
        )
        raise UserError(
            f"this code builds ProcSpatial {known}, not {version!r}; "
            "check out the release that defined that version to rebuild it"
        )
    missing = [name for name in PROCSPATIAL_TASKS[version] if name not in registry]
    if missing:
        raise UserError(
            f"ProcSpatial version {version} asks task type(s) {', '.join(missing)}, which the "
            "task registry (agents/tasks/__init__.py) no longer has; restore them, or build a "
            "version that does not ask them (PROCSPATIAL_TASKS in evaluation/procspatial.py)"
        )
    return {name: registry[name] for name in PROCSPATIAL_TASKS[version]}


def level_answer_kind(task: Task, level: int) -> AnswerKind:
    """The answer kind a task asks at a level (numeric tasks: choice at 1-3, number at 4-5)."""
    settings = task.settings(level)
    if "format" in settings:
        return "numeric" if settings["format"] == "numeric" else "multiple_choice"
    return task.answer_kinds[0]


def benchmark_arms(
    vsibench_only: bool,
    version: str = PROCSPATIAL_VERSION,
    registry: Mapping[str, Task] | None = None,
) -> dict[str, list[int]]:
    """Task type -> the levels ProcSpatial `version` asks it at, in the version's pinned order.

    VSI-Bench-only keeps VSI-Bench's types at the levels whose rows keep a VSI-Bench
    question type (numeric tasks: levels 4-5, where the answer is a number)."""
    arms: dict[str, list[int]] = {}
    for name, task in pinned_tasks(version, registry).items():
        levels = sorted(task.levels)
        if vsibench_only:
            levels = [
                level
                for level in levels
                if benchmark_question_type(name, level_answer_kind(task, level))
                in VSIBENCH_QUESTION_TYPES
            ]
        if levels:
            arms[name] = levels
    return arms


def allocate(arms: dict[str, list[int]], size: int) -> dict[Arm, int]:
    """`size` split evenly over task types, then each type's share evenly over its levels.

    Remainders go to the first types, and within type i to levels starting at offset i,
    so the per-level totals differ by at most one or two rows."""
    quotas: dict[Arm, int] = {}
    per_type, extra_types = divmod(size, len(arms))
    for i, (name, levels) in enumerate(arms.items()):
        share = per_type + (1 if i < extra_types else 0)
        per_level, extra_levels = divmod(share, len(levels))
        bonus = {levels[(i + j) % len(levels)] for j in range(extra_levels)}
        for level in levels:
            quotas[(name, level)] = per_level + (1 if level in bonus else 0)
    return quotas


def unusable_reason(sample: Sample) -> str | None:
    """Why a sample cannot be a benchmark row, or None when it can (executed, passed the
    verifier if it ran, and a ground truth VSI-Bench's metrics can score)."""
    if sample.verdict == "rejected" or sample.ground_truth is None:
        return sample.reason or "rejected"
    if sample.proposal.answer_kind == "numeric":
        value = parse_number(sample.ground_truth)
        if value is None or not value > 0:
            return "nonpositive_numeric_answer"  # mean relative accuracy divides by it
    return None


def balance(
    kept: dict[Arm, list[Sample]], quotas: dict[Arm, int]
) -> tuple[dict[Arm, list[Sample]], dict[str, int]]:
    """Each arm's first `quota` samples; a short level's gap goes to the type's other levels
    (one at a time, lowest level first). Returns the choice and the per-type shortfall."""
    chosen = {arm: kept.get(arm, [])[:quota] for arm, quota in quotas.items()}
    shortfall: dict[str, int] = {}
    for name in dict.fromkeys(arm[0] for arm in quotas):
        arms = [arm for arm in quotas if arm[0] == name]
        gap = sum(quotas[arm] - len(chosen[arm]) for arm in arms)
        while gap > 0:
            spare = [arm for arm in arms if len(kept.get(arm, [])) > len(chosen[arm])]
            if not spare:
                break
            for arm in spare:
                if gap == 0:
                    break
                chosen[arm].append(kept[arm][len(chosen[arm])])
                gap -= 1
        if gap:
            shortfall[name] = gap
    return chosen, shortfall


def order_rows(chosen: dict[Arm, list[Sample]]) -> list[Sample]:
    """Type by type (registry order); within a type the levels interleave (L1, L2, ... L5,
    L1, ...), so `--limit` subsets, which take each type's first rows, span the levels."""
    ordered: list[Sample] = []
    for name in dict.fromkeys(arm[0] for arm in chosen):
        queues = [chosen[arm] for arm in sorted(chosen) if arm[0] == name]
        for depth in range(max((len(q) for q in queues), default=0)):
            ordered += [queue[depth] for queue in queues if depth < len(queue)]
    return ordered


def to_row(index: int, sample: Sample) -> dict[str, Any]:
    proposal = sample.proposal
    return {
        "id": index,
        "dataset": NAME,
        "scene_name": proposal.scene_id,
        "question_type": benchmark_question_type(proposal.question_type, proposal.answer_kind),
        "task": proposal.question_type,
        "question": proposal.question,
        "ground_truth": sample.ground_truth,
        "options": list(proposal.options) or None,
        "answer_kind": proposal.answer_kind,
        "level": proposal.level,
        "frame_indices": proposal.frame_indices,
        "difficulty": json.dumps(proposal.difficulty, sort_keys=True),
        "sample_id": sample.sample_id,
    }
