from __future__ import annotations

import math

import pytest

from agents.curriculum import (
    ArmStats,
    DifficultyFeedback,
    LearnabilityBandit,
    UniformPolicy,
    make_policy,
    merge,
    summarize,
)
from agents.records import Proposal, Sample
from common.errors import UserError


def stats(task: str, level: int, ps: list[float]) -> list[Sample]:
    out = []
    for i, p in enumerate(ps):
        proposal = Proposal(
            scene_id=f"s{i}",
            question_type=task,
            question=f"q{i} {task} {level}",
            answer_kind="numeric",
            program="def solve(scene):\n    return 1\n",
            level=level,
        )
        out.append(
            Sample.from_proposal(proposal).model_copy(
                update={"verdict": "accepted", "confidence": p}
            )
        )
    return out


ARMS = [("frontier", 1), ("easy", 1), ("hard", 1), ("unseen", 1)]


def synthetic_feedback() -> DifficultyFeedback:
    samples = (
        stats("frontier", 1, [0.4, 0.5, 0.6, 0.55] * 5)
        + stats("easy", 1, [0.97, 0.99, 0.95] * 7)
        + stats("hard", 1, [0.01, 0.03, 0.02] * 7)
    )
    return summarize(samples)


def test_summarize_bands() -> None:
    by_arm = synthetic_feedback().by_arm()
    assert by_arm[("frontier", 1)].frontier == 1.0
    assert by_arm[("easy", 1)].easy == 1.0
    assert by_arm[("hard", 1)].hard == 1.0
    assert by_arm[("frontier", 1)].mean_learnability == pytest.approx(
        sum(p * (1 - p) for p in [0.4, 0.5, 0.6, 0.55]) / 4
    )


def test_rejected_and_unscored_samples_are_ignored() -> None:
    samples = stats("t", 1, [0.5])
    samples.append(samples[0].model_copy(update={"verdict": "rejected"}))
    samples.append(samples[0].model_copy(update={"confidence": None}))
    assert summarize(samples).by_arm()[("t", 1)].count == 1


def test_bandit_shifts_allocation_toward_the_frontier() -> None:
    quotas = LearnabilityBandit(seed=0).allocate(ARMS, 200, synthetic_feedback())
    assert sum(quotas.values()) == 200
    assert quotas[("frontier", 1)] > quotas[("easy", 1)]
    assert quotas[("frontier", 1)] > quotas[("hard", 1)]
    assert quotas[("frontier", 1)] >= 0.4 * 200
    assert min(quotas.values()) > 0, "no arm may starve"


def test_bandit_without_feedback_is_uniform_and_deterministic() -> None:
    a = LearnabilityBandit(seed=3).allocate(ARMS, 10)
    b = LearnabilityBandit(seed=3).allocate(ARMS, 10)
    assert a == b
    assert sorted(a.values()) == [2, 2, 3, 3]


def test_uniform_policy_ignores_feedback() -> None:
    quotas = UniformPolicy().allocate(ARMS, 100, synthetic_feedback())
    assert set(quotas.values()) == {25}


def test_closed_loop_moves_toward_levels_the_solver_can_almost_do() -> None:
    """A synthetic solver that masters level 1, half-knows level 3, cannot do level 5."""
    arms = [("task", level) for level in range(1, 6)]
    p_of_level = {1: 0.99, 2: 0.93, 3: 0.5, 4: 0.08, 5: 0.01}
    policy = LearnabilityBandit(seed=0)
    feedback = None
    share_history = []
    for _ in range(4):
        quotas = policy.allocate(arms, 100, feedback)
        share_history.append(quotas[("task", 3)] / 100)
        samples = []
        for (task, level), n in quotas.items():
            samples += stats(task, level, [p_of_level[level]] * n)
        feedback = merge(feedback, summarize(samples))
    assert share_history[0] == pytest.approx(0.2)
    assert all(share > 0.5 for share in share_history[1:]), share_history


def test_merge_keeps_history_of_unmeasured_arms() -> None:
    first = synthetic_feedback()
    second = summarize(stats("frontier", 1, [0.5] * 4))
    merged = merge(first, second, decay=0.5).by_arm()
    assert ("easy", 1) in merged
    old = first.by_arm()[("frontier", 1)]
    weight_old = old.count * 0.5
    expected = (old.mean_confidence * weight_old + 0.5 * 4) / (weight_old + 4)
    assert merged[("frontier", 1)].mean_confidence == pytest.approx(expected)


def test_unknown_policy_name() -> None:
    with pytest.raises(UserError, match="uniform"):
        make_policy("nope")
    assert isinstance(make_policy("uniform"), UniformPolicy)


def test_arm_stats_validate_ranges() -> None:
    with pytest.raises(ValueError):
        ArmStats(
            question_type="t",
            level=1,
            count=1,
            mean_confidence=1.5,
            mean_learnability=0.1,
            easy=0,
            frontier=1,
            hard=0,
        )
    assert math.isclose(0.25, max(p * (1 - p) for p in [i / 100 for i in range(101)]))
