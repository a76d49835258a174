"""Band edges, the per-task tally, and which held-out task scores a question type."""

from __future__ import annotations

import pytest

from agents.bands import (
    EASY,
    HARD,
    BandThresholds,
    heldout_names,
    heldout_score,
    heldout_task,
    tally,
)
from agents.curriculum import (
    ArmStats,
    DifficultyFeedback,
    LearnabilityBandit,
    UniformPolicy,
    YieldAwareBandit,
    summarize,
)
from agents.records import RELATIVE_DIRECTION_LEVELS
from agents.tasks import TASKS
from evaluation.procspatial import benchmark_question_type
from tests.agents.sample_helpers import scored_sample


def test_band_edges_belong_to_the_frontier() -> None:
    t = BandThresholds()
    assert (t.easy, t.hard) == (EASY, HARD) == (0.9, 0.1)
    assert [t.band(p) for p in (0.95, 0.9, 0.5, 0.1, 0.05, None)] == [
        "easy",
        "frontier",
        "frontier",
        "frontier",
        "hard",
        None,
    ]
    assert t.shares([0.95, 0.5, 0.05, 0.01, None]) == {"easy": 0.25, "frontier": 0.25, "hard": 0.5}
    assert t.shares([]) == {"easy": 0.0, "frontier": 0.0, "hard": 0.0}


def test_tally_counts_candidates_acceptances_bands_and_reasons() -> None:
    samples = [
        scored_sample("a", 0, confidence=0.95),
        scored_sample("a", 1, confidence=0.5),
        scored_sample("a", 2),  # accepted, not scored
        scored_sample("a", 3, verdict="rejected"),
        scored_sample("b", 4, confidence=0.02),
    ]
    tasks, reasons = tally(samples, BandThresholds(easy=0.8, hard=0.2))
    assert list(tasks) == ["a", "b"]
    a = tasks["a"]
    assert (a.proposed, a.accepted, a.bands, a.scored) == (
        4,
        3,
        {"easy": 1, "frontier": 1, "hard": 0},
        2,
    )
    assert a.mean_confidence == pytest.approx(0.725)
    assert tasks["b"].bands == {"easy": 0, "frontier": 0, "hard": 1}
    assert reasons == {"unsound": 1}


def test_summarize_bands_arms_with_the_same_edges_as_the_tally() -> None:
    samples = [scored_sample("a", i, confidence=p) for i, p in enumerate((0.95, 0.9, 0.1, 0.05))]
    arm = summarize(samples).by_arm()[("a", 1)]
    tasks, _ = tally(samples, BandThresholds())
    assert (arm.easy, arm.frontier, arm.hard) == (0.25, 0.5, 0.25)
    assert tasks["a"].bands == {"easy": 1, "frontier": 2, "hard": 1}


def test_every_held_out_name_maps_back_to_the_question_type_that_made_it() -> None:
    """The held-out set renames some question types (evaluation.procspatial); the
    curriculum must find each under the names it may carry."""
    for name, task in TASKS.items():
        for kind in task.answer_kinds:
            assert benchmark_question_type(name, kind) in heldout_names(name), (name, kind)
    for level in RELATIVE_DIRECTION_LEVELS:
        assert heldout_task(level, {"object_rel_direction": 0.4}) == "object_rel_direction"
        assert heldout_score(level, {"object_rel_direction": 0.4}) == 0.4
    scores = {"object_counting": 0.95, "object_counting_choice": 0.3}
    assert heldout_score("object_counting", scores) == 0.3  # saturated only when every form is
    assert heldout_score("route_plan", scores) is None


def stats(task: str, level: int = 1) -> ArmStats:
    return ArmStats(
        question_type=task,
        level=level,
        count=16,
        mean_confidence=0.5,
        mean_learnability=0.01,
        easy=0.0,
        frontier=1.0,
        hard=0.0,
        requested=16,
        made=16,
    )


def test_yield_bandit_floor_sees_relative_direction_arms_under_their_held_out_name() -> None:
    """Bug: held-out reports `object_rel_direction`, the proposer's arms are its three
    levels, so the floor never reached them."""
    arms = [(level, 1) for level in RELATIVE_DIRECTION_LEVELS] + [("object_counting", 1)]
    feedback = DifficultyFeedback(
        arms=[stats(task) for task, _ in arms],
        heldout={"object_rel_direction": 0.3, "object_counting": 0.95},
    )
    policy = YieldAwareBandit(seed=0)
    floor = policy.floor(arms, feedback)
    assert [floor[arm] for arm in arms] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])
    saturated = feedback.model_copy(update={"heldout": {"object_rel_direction": 0.95}})
    assert sum(policy.floor(arms, saturated).values()) == 0


def test_uniform_policy_asks_for_other_arms_in_later_rounds() -> None:
    """Bug: with fewer slots than arms, a fixed seed asked for the same arms every round."""
    arms = [(f"task{i}", 1) for i in range(12)]
    rounds = [UniformPolicy(seed=0).allocate(arms, 4, round_index=r) for r in range(6)]
    assert all(sum(q.values()) == 4 and max(q.values()) == 1 for q in rounds)
    asked = [frozenset(a for a, n in q.items() if n) for q in rounds]
    assert len(set(asked)) > 1 and len(frozenset().union(*asked)) > 4
    # round 0 keeps the seed's old draw; each round is reproducible
    assert rounds[0] == UniformPolicy(seed=0).allocate(arms, 4)
    assert rounds[3] == UniformPolicy(seed=0).allocate(arms, 4, round_index=3)


def test_round_index_only_breaks_ties() -> None:
    """Bandits take the round too, but it changes nothing where weights differ."""
    arms = [("a", 1), ("b", 1), ("c", 1)]
    feedback = DifficultyFeedback(arms=[stats("a"), stats("b").model_copy(update={"count": 2})])
    policy = LearnabilityBandit(seed=5)
    assert policy.allocate(arms, 50, feedback) == policy.allocate(arms, 50, feedback, round_index=7)
