"""One proposal path: a round's quotas dealt into propose jobs, and one job run.

The loop's `propose` node (one LangGraph `Send` branch per job) and `ouroboros propose`
both plan with `plan_propose_jobs` and run each job with `run_propose_job`, so
`scene_attempts`, refill, letter balancing and seeds behave alike in both: every job
gets every scene and a share of the arms (whole question types), and its proposer's seed
follows from the run's seed, the iteration and the job's name.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

from agents.curriculum import Arm
from agents.proposers.base import ArmOutcome, ProposalBatch, Proposer
from scenes.schema import Scene


class ProposeJob(TypedDict, total=False):
    """What one fan-out branch gets (the LangGraph `Send` payload, saved in checkpoints)."""

    iteration: int
    job: str  # names the job's proposals file (iterations/NNN/proposals/<job>.json)
    scene_ids: list[str] | None  # the scenes it may use; None: every scene of the run
    quotas: list[tuple[str, int, int]]  # (question type, level, how many)
    feedback: dict[str, Any] | None  # last rounds' bands, for proposers that read them (LLM)
    examples: str | None  # last round's scored samples (too easy / too hard examples)
    scene_id: str  # runs planned before propose jobs: one scene per branch


def job_name(job: Mapping[str, Any]) -> str:
    """The job's name; a branch planned by an older version is named after its scene."""
    return str(job.get("job") or job["scene_id"])


def job_scene_ids(job: Mapping[str, Any]) -> list[str] | None:
    """The scenes a job may use (None: all); older branches carry a single scene."""
    if "scene_ids" in job:
        return job["scene_ids"]
    return [job["scene_id"]] if job.get("scene_id") else None


def job_seed(seed: int, iteration: int, name: str) -> int:
    """The seed of one job's proposer: same run seed, iteration and job, same proposals."""
    return random.Random(f"{seed}:{iteration}:{name}").randrange(2**31)


def plan_propose_jobs(quotas: Mapping[Arm, int], iteration: int, width: int) -> list[ProposeJob]:
    """Deal the round's question types over at most `width` jobs, largest quota first, each
    to the job with the least so far; every job proposes on every scene.

    Deterministic: the same quotas, iteration and width give the same jobs.
    """
    per_type: dict[str, list[tuple[str, int, int]]] = {}
    for (name, level), n in sorted(quotas.items()):
        if n > 0:
            per_type.setdefault(name, []).append((name, level, n))
    count = max(1, min(width, len(per_type)))
    loads = [0] * count
    dealt: list[list[tuple[str, int, int]]] = [[] for _ in range(count)]
    for name in sorted(per_type, key=lambda t: (-sum(n for *_, n in per_type[t]), t)):
        target = min(range(count), key=lambda i: (loads[i], i))
        dealt[target] += per_type[name]
        loads[target] += sum(n for *_, n in per_type[name])
    return [
        ProposeJob(iteration=iteration, job=f"job-{i:02d}", scene_ids=None, quotas=sorted(arms))
        for i, arms in enumerate(dealt)
        if arms
    ]


def run_propose_job(
    job: Mapping[str, Any],
    scenes: Mapping[str, Scene],
    make_proposer: Callable[[int], Proposer],
    seed: int,
    on_progress: Callable[[int], None] | None = None,
) -> ProposalBatch:
    """One job: its proposer (built with the job's seed) on its scenes and quotas."""
    names = job_scene_ids(job)
    chosen = (
        [scenes[name] for name in sorted(names)] if names is not None else list(scenes.values())
    )
    quotas = {(t, int(lvl)): int(n) for t, lvl, n in job["quotas"]}
    proposer = make_proposer(job_seed(seed, int(job["iteration"]), job_name(job)))
    try:
        return proposer.propose(sorted(chosen, key=lambda s: s.id), quotas, on_progress)
    finally:
        close = getattr(proposer, "close", None)
        if callable(close):
            close()


def merge_batches(batches: Sequence[ProposalBatch]) -> ProposalBatch:
    """The jobs' batches as one round, proposals in job order (as the run store reads them)."""
    merged = ProposalBatch(proposer_id=batches[0].proposer_id if batches else "none")
    outcomes: dict[Arm, ArmOutcome] = {}
    for batch in batches:
        merged.proposals += batch.proposals
        for arm in batch.arms:
            outcomes[(arm.question_type, arm.level)] = arm
    merged.arms = [outcomes[arm] for arm in sorted(outcomes)]
    return merged
