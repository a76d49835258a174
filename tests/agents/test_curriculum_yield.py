"""The yield-aware policy: unmade slots are evidence, held-out tasks keep a floor."""

from __future__ import annotations

import pytest

from agents.curriculum import (
    ArmStats,
    DifficultyFeedback,
    YieldAwareBandit,
    make_policy,
    merge,
    summarize,
)
from tests.agents.sample_helpers import scored_sample


def arm(task: str, learn: float, requested: float, made: float, level: int = 1) -> ArmStats:
    count = int(made)
    return ArmStats(
        question_type=task,
        level=level,
        count=count,
        mean_confidence=0.5 if count else 0.0,
        mean_learnability=learn if count else 0.0,
        easy=0.0,
        frontier=1.0 if count else 0.0,
        hard=0.0,
        requested=requested,
        made=made,
    )


ARMS = [("good", 1), ("rare", 1), ("never", 1), ("solved", 1)]


def test_an_arm_that_makes_nothing_stops_being_requested() -> None:
    feedback = DifficultyFeedback(
        arms=[
            arm("good", 0.2, 40, 40),
            arm("rare", 0.2, 40, 8),
            arm("never", 0.0, 40, 0),
            arm("solved", 0.01, 40, 40),
        ]
    )
    quotas = YieldAwareBandit(seed=0).allocate(ARMS, 64, feedback)
    assert sum(quotas.values()) == 64
    assert quotas[("never", 1)] == 0
    assert quotas[("good", 1)] > quotas[("rare", 1)] > 0
    assert quotas[("good", 1)] > quotas[("solved", 1)]


def test_an_unseen_arm_is_explored_but_not_preferred_over_measured_learnability() -> None:
    feedback = DifficultyFeedback(arms=[arm("good", 0.2, 16, 16), arm("solved", 0.0, 16, 16)])
    quotas = YieldAwareBandit(seed=0).allocate(
        [("good", 1), ("solved", 1), ("new", 1)], 60, feedback
    )
    assert quotas[("new", 1)] > 0 and quotas[("good", 1)] >= quotas[("new", 1)]


def test_held_out_tasks_keep_a_floor_until_their_score_saturates() -> None:
    arms = [("frontier", 1), ("flat", 1)]
    stats = [arm("frontier", 0.24, 32, 32), arm("flat", 0.0, 32, 32)]
    policy = YieldAwareBandit(seed=0, min_share=0.2)
    open_task = policy.allocate(arms, 100, DifficultyFeedback(arms=stats, heldout={"flat": 0.3}))
    assert open_task[("flat", 1)] >= 20  # the whole floor: 'frontier' is not held out
    saturated = policy.allocate(arms, 100, DifficultyFeedback(arms=stats, heldout={"flat": 0.95}))
    assert saturated[("flat", 1)] == 0


def test_policy_reads_the_configured_signals_learnability() -> None:
    samples = [scored_sample("a", i, confidence=0.5, learnability=0.0) for i in range(8)] + [
        scored_sample("b", i, confidence=0.99, learnability=0.2) for i in range(8)
    ]
    feedback = summarize(samples, requested={("a", 1): 8, ("b", 1): 8, ("c", 1): 8})
    by_arm = feedback.by_arm()
    assert by_arm[("a", 1)].mean_learnability == 0.0  # not p(1 - p) = 0.25
    assert by_arm[("b", 1)].mean_learnability == pytest.approx(0.2)
    assert (by_arm[("c", 1)].count, by_arm[("c", 1)].requested, by_arm[("c", 1)].made) == (0, 8, 0)
    quotas = YieldAwareBandit(seed=0).allocate([("a", 1), ("b", 1)], 32, feedback)
    assert quotas[("b", 1)] > quotas[("a", 1)]


def test_merge_adds_slots_without_decay_and_keeps_held_out_scores() -> None:
    old = DifficultyFeedback(arms=[arm("a", 0.1, 10, 2)])
    new = DifficultyFeedback(arms=[arm("a", 0.3, 10, 0)], heldout={"a": 0.4})
    merged = merge(old, new, decay=0.5).by_arm()[("a", 1)]
    assert (merged.requested, merged.made) == (20, 2)
    assert merge(old, new).heldout == {"a": 0.4}


def test_yield_bandit_is_registered() -> None:
    assert isinstance(make_policy("yield_bandit", seed=3), YieldAwareBandit)
