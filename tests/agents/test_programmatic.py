"""The programmatic proposer: seeded, spread over scenes, counting what it cannot pose, and
steered by the curriculum policy toward the frontier."""

from __future__ import annotations

from collections import Counter

import pytest

from agents.curriculum import LearnabilityBandit, UniformPolicy, summarize
from agents.proposers import (
    ProgrammaticConfig,
    ProgrammaticProposer,
    Proposer,
    plan_and_propose,
)
from agents.proposers.programmatic import semantic_key
from agents.records import Proposal, Sample
from agents.tasks import TASKS
from agents.tasks.demo_scene import demo_scene
from common.errors import UserError
from scenes.procedural import generate_scene
from scenes.schema import Scene

DIRECTION_TASKS = [
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
]


@pytest.fixture(scope="module")
def scenes() -> list[Scene]:
    return [demo_scene()] + [
        generate_scene(seed, frames=24, width=96, height=72).scene for seed in range(3)
    ]


def _dump(proposals: list[Proposal]) -> list[dict]:
    return [p.model_dump() for p in proposals]


def test_is_a_proposer() -> None:
    assert isinstance(ProgrammaticProposer(), Proposer)
    assert len(ProgrammaticProposer().arms()) == len(TASKS) * 5  # five levels per task


def test_same_seed_same_proposals_other_seed_other(scenes: list[Scene]) -> None:
    quotas = dict.fromkeys(ProgrammaticProposer().arms(), 2)
    first = ProgrammaticProposer(ProgrammaticConfig(seed=5)).propose(scenes, quotas)
    again = ProgrammaticProposer(ProgrammaticConfig(seed=5)).propose(list(reversed(scenes)), quotas)
    other = ProgrammaticProposer(ProgrammaticConfig(seed=6)).propose(scenes, quotas)
    assert _dump(first.proposals) == _dump(again.proposals)
    assert _dump(first.proposals) != _dump(other.proposals)
    assert first.arms == again.arms


def test_quotas_are_met_and_spread_over_scenes(scenes: list[Scene]) -> None:
    proposer = ProgrammaticProposer(ProgrammaticConfig(tasks=DIRECTION_TASKS))
    quotas = dict.fromkeys(proposer.arms(), 8)
    batch = proposer.propose(scenes, quotas)
    made = Counter((p.question_type, p.level) for p in batch.proposals)
    assert sum(made.values()) >= 0.9 * sum(quotas.values())
    assert all(made[arm] <= quotas[arm] for arm in quotas)
    per_scene = Counter(p.scene_id for p in batch.proposals)
    assert len(per_scene) == len(scenes)
    assert max(per_scene.values()) <= 0.5 * len(batch.proposals)
    assert all(p.proposer_id == "programmatic" for p in batch.proposals)


def test_no_semantic_duplicates_within_a_round(scenes: list[Scene]) -> None:
    proposer = ProgrammaticProposer(ProgrammaticConfig(tasks=["room_size_estimation"]))
    batch = proposer.propose(scenes[:1], {("room_size_estimation", 1): 5})
    # One room has one area: one level-1 question, the other attempts are duplicates.
    assert len(batch.proposals) == 1
    assert batch.arms[0].skipped["duplicate"] >= 4
    keys = [semantic_key(p) for p in batch.proposals]
    assert len(keys) == len(set(keys))


def test_tasks_that_cannot_pose_are_skipped_with_reasons(scenes: list[Scene]) -> None:
    metadata_only = scenes[0].model_copy(update={"frames": (), "id": "no-frames"})
    proposer = ProgrammaticProposer(
        ProgrammaticConfig(tasks=["obj_appearance_order", "object_counting"], refill=False)
    )
    batch = proposer.propose([metadata_only], dict.fromkeys(proposer.arms(), 1))
    skipped = batch.skipped_by_task()
    assert skipped["obj_appearance_order"] == {"needs_frames": 5 * 6}
    assert skipped["object_counting"]["no_target_level_5"] > 0  # no category with 5+
    assert {p.question_type for p in batch.proposals} == {"object_counting"}
    outcome = {(a.question_type, a.level): a for a in batch.arms}
    assert outcome[("obj_appearance_order", 1)].proposed == 0
    assert outcome[("object_counting", 1)].proposed == 1


def test_unused_quota_goes_to_arms_that_can_use_it(scenes: list[Scene]) -> None:
    tasks = ["object_size_estimation", "object_rel_direction_hard"]
    quotas = dict.fromkeys(ProgrammaticProposer(ProgrammaticConfig(tasks=tasks)).arms(), 6)
    quotas[("object_size_estimation", 5)] = 30  # few objects under 80 cm: mostly unusable
    kept = ProgrammaticProposer(ProgrammaticConfig(tasks=tasks, refill=False))
    refilled = ProgrammaticProposer(ProgrammaticConfig(tasks=tasks))
    short = kept.propose(scenes, quotas)
    full = refilled.propose(scenes, quotas)
    assert len(short.proposals) < sum(quotas.values()) == len(full.proposals)
    extra = {(a.question_type, a.level): a.refilled for a in full.arms}
    assert extra[("object_size_estimation", 5)] == 0
    assert sum(extra.values()) == len(full.proposals) - len(short.proposals)
    assert all(a.proposed == a.requested + a.refilled for a in full.arms if a.refilled)


def test_user_mistakes_are_clear(scenes: list[Scene]) -> None:
    with pytest.raises(UserError, match=r"unknown task type.*object_countin.*known"):
        ProgrammaticProposer(ProgrammaticConfig(tasks=["object_countin"]))
    with pytest.raises(UserError, match="no scenes"):
        ProgrammaticProposer().propose([], {("object_counting", 1): 1})
    with pytest.raises(UserError, match="no arm"):
        ProgrammaticProposer().propose(scenes, {("object_counting", 9): 1})


def _samples(task: str, level: int, confidences: list[float]) -> list[Sample]:
    samples = []
    for i, p in enumerate(confidences):
        proposal = Proposal(
            scene_id="synthetic",
            question_type=task,
            question=f"q{i}",
            answer_kind="multiple_choice",
            options=["A. left", "B. right"],
            program="def solve(scene):\n    return 'A'\n",
            level=level,
        )
        sample = Sample.from_proposal(proposal).model_copy(
            update={"verdict": "accepted", "confidence": p}
        )
        samples.append(sample)
    return samples


def test_policy_moves_proposals_toward_the_frontier(scenes: list[Scene]) -> None:
    """Synthetic feedback: level 3 of the medium direction task sits in the frontier, the
    easy task is mastered at every level and the hard one out of reach. The bandit must
    give the frontier arm more proposals than the uniform baseline does, and more than any
    mastered or hopeless arm."""
    frontier = ("object_rel_direction_medium", 3)
    samples = _samples(*frontier, [0.4, 0.5, 0.6, 0.45] * 10)
    for level in range(1, 6):
        samples += _samples("object_rel_direction_easy", level, [0.99, 0.97] * 10)
        samples += _samples("object_rel_direction_hard", level, [0.01, 0.03] * 10)
    feedback = summarize(samples)
    proposer = ProgrammaticProposer(ProgrammaticConfig(tasks=DIRECTION_TASKS, seed=1))

    def made(policy: LearnabilityBandit | UniformPolicy) -> Counter:
        batch = plan_and_propose(proposer, scenes, 150, policy, feedback)
        return Counter((p.question_type, p.level) for p in batch.proposals)

    bandit, uniform = made(LearnabilityBandit(seed=1)), made(UniformPolicy(seed=1))
    assert bandit[frontier] >= 2 * uniform[frontier]
    settled = [arm for arm in bandit if arm[0] != "object_rel_direction_medium"]
    assert all(bandit[frontier] > 2 * bandit[arm] for arm in settled)
    assert all(bandit[arm] >= 1 for arm in proposer.arms())  # exploration: nobody starves
