"""The curriculum gym's three checks: a frontier is found, no frontier costs nothing,
unfillable arms are dropped. Five paired seeds each; a run of all three takes about a second."""

from __future__ import annotations

import statistics

import pytest

from agents.curriculum_gym import GymArm, flat_world, frontier_world, run_episode

SEEDS = range(5)


def mean_samples_to(world, policy: str, target: float) -> float:  # type: ignore[no-untyped-def]
    used = [run_episode(world, policy, "expected", seed).samples_to(target) for seed in SEEDS]
    assert all(u is not None for u in used), f"{policy} never reached {target}: {used}"
    return statistics.mean(used)


def test_with_a_frontier_the_policy_reaches_the_target_with_fewer_samples() -> None:
    world = frontier_world()
    uniform_final = statistics.mean(run_episode(world, "uniform", seed=s).scores[-1] for s in SEEDS)
    target = uniform_final - 0.03  # a score uniform does reach within the episode
    policy = mean_samples_to(world, "yield_bandit", target)
    uniform = mean_samples_to(world, "uniform", target)
    assert policy < 0.8 * uniform


def test_without_a_frontier_the_policy_is_no_worse_than_uniform() -> None:
    world = flat_world()
    for seed in SEEDS:
        policy, uniform = (
            run_episode(world, "yield_bandit", seed=seed),
            run_episode(world, "uniform", seed=seed),
        )
        for ours, theirs in zip(policy.scores, uniform.scores, strict=True):
            assert ours >= theirs - 0.02
    assert mean_samples_to(world, "yield_bandit", 0.8) <= 1.05 * mean_samples_to(
        world, "uniform", 0.8
    )
    untrainable = flat_world(arms=[GymArm(f"t{i}", start=0.3, rate=0.0) for i in range(4)])
    for seed in SEEDS:
        assert run_episode(untrainable, "yield_bandit", seed=seed).scores == pytest.approx(
            run_episode(untrainable, "uniform", seed=seed).scores
        )


def test_unfillable_arms_stop_being_requested() -> None:
    world = frontier_world(rounds=12)
    for seed in SEEDS:
        episode = run_episode(world, "yield_bandit", seed=seed)
        asked = [quotas[("appear", 1)] for quotas in episode.quotas]
        assert asked[0] > 0, "an unseen arm is tried"
        assert asked[3:] == [0] * (len(asked) - 3), asked
