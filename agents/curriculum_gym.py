"""A curriculum gym: a simulated student, so any policy can be tried against uniform in seconds.

Each arm has a skill s in [0, 1] that rises with every sample trained on it,
s += rate * (ceiling - s), but only once its prerequisite arm's skill passes
`unlock` (before that the sample teaches nothing). Unlearnable arms have rate 0;
unfillable arms make each requested slot with probability `fill` (0: never). A round:
the policy splits the budget, the proposer makes what it can, the student is scored on
what was made (noisy observations of s, as the loop's signal would be), then trains on
it. The held-out score is the mean skill over held-out arms. The signal is one of:
`expected` (p = noisy s, learnability p(1 - p)), `progress` (learnability = EMA of
|change| of a noisy probe per arm) or `shuffled` (expected, with the learnability values
permuted across arms: the control that keeps the quotas' spread but not their meaning).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from agents.bands import BandThresholds
from agents.curriculum import Arm, ArmStats, DifficultyFeedback, make_policy, merge


@dataclass(frozen=True)
class GymArm:
    """One simulated (task, level)."""

    task: str
    level: int = 1
    start: float = field(default=0.1, metadata={"help": "Skill before any training."})
    ceiling: float = field(default=1.0, metadata={"help": "Skill that training approaches."})
    rate: float = field(default=0.02, metadata={"help": "Share of the gap one sample closes."})
    prerequisite: Arm | None = field(default=None, metadata={"help": "Arm that must come first."})
    unlock: float = field(default=0.6, metadata={"help": "Prerequisite skill that unlocks this."})
    fill: float = field(default=1.0, metadata={"help": "Chance a requested slot gets made."})
    heldout: bool = field(default=True, metadata={"help": "Counts in the held-out score."})

    @property
    def arm(self) -> Arm:
        return (self.task, self.level)


@dataclass
class GymConfig:
    arms: list[GymArm]
    budget: int = field(default=64, metadata={"help": "Slots requested per round."})
    rounds: int = field(default=30, metadata={"help": "Rounds per episode."})
    noise: float = field(default=0.1, metadata={"help": "Std of one observation of a skill."})
    probe: int = field(default=8, metadata={"help": "Probe samples per arm (progress signal)."})
    decay: float = field(
        default=0.5, metadata={"help": "Difficulty feedback merge decay, as in the loop."}
    )


@dataclass
class Episode:
    """What one policy did: held-out score, cumulative made samples and slots, per round."""

    scores: list[float]
    samples: list[int]
    requested: list[int]
    quotas: list[dict[Arm, int]]

    def samples_to(self, target: float) -> int | None:
        """Made samples when the held-out score first reaches `target` (None: never)."""
        for score, used in zip(self.scores, self.samples, strict=True):
            if score >= target:
                return used
        return None


def heldout_score(config: GymConfig, skill: dict[Arm, float]) -> float:
    arms = [a for a in config.arms if a.heldout]
    return sum(skill[a.arm] for a in arms) / len(arms)


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def run_episode(
    config: GymConfig, policy: str = "yield_bandit", signal: str = "expected", seed: int = 0
) -> Episode:
    """One episode of `policy` ('uniform' or a registered policy name) steered by `signal`."""
    rng = random.Random(seed)
    allocator: Any = make_policy(policy, seed)
    specs = {a.arm: a for a in config.arms}
    arms = list(specs)
    skill = {arm: a.start for arm, a in specs.items()}
    feedback: DifficultyFeedback | None = None
    probes: dict[Arm, float] = {}
    progress: dict[Arm, float] = {}
    scores, samples, requested, quotas_seen, used = [], [], [], [], 0
    for round_index in range(config.rounds):  # tie-breaks follow the round, as in the loop
        quotas = allocator.allocate(arms, config.budget, feedback, round_index=round_index)
        quotas_seen.append(quotas)
        made = {
            arm: sum(rng.random() < specs[arm].fill for _ in range(n)) for arm, n in quotas.items()
        }
        stats = []
        for arm, n in sorted(quotas.items()):
            ps = [_clip(skill[arm] + rng.gauss(0, config.noise)) for _ in range(made[arm])]
            count = len(ps)
            learn = [p * (1 - p) for p in ps]
            stats.append(
                ArmStats(
                    question_type=arm[0],
                    level=arm[1],
                    count=count,
                    mean_confidence=sum(ps) / count if count else 0.0,
                    mean_learnability=sum(learn) / count if count else 0.0,
                    **BandThresholds().shares(ps),
                    requested=n,
                    made=made[arm],
                )
            )
        for arm, n in made.items():  # train after scoring, as the loop does
            spec = specs[arm]
            unlocked = spec.prerequisite is None or skill[spec.prerequisite] >= spec.unlock
            for _ in range(n if unlocked else 0):
                skill[arm] += spec.rate * (spec.ceiling - skill[arm])
        used += sum(made.values())
        heldout = {a.task: skill[a.arm] for a in config.arms if a.heldout}
        current = DifficultyFeedback(arms=stats, heldout=heldout)
        feedback = merge(feedback, current, config.decay)
        feedback = _steer(feedback, signal, rng, config, skill, probes, progress)
        scores.append(heldout_score(config, skill))
        samples.append(used)
        requested.append(config.budget * len(scores))
    return Episode(scores=scores, samples=samples, requested=requested, quotas=quotas_seen)


def _steer(
    feedback: DifficultyFeedback,
    signal: str,
    rng: random.Random,
    config: GymConfig,
    skill: dict[Arm, float],
    probes: dict[Arm, float],
    progress: dict[Arm, float],
) -> DifficultyFeedback:
    """The feedback as the chosen signal would shape it."""
    if signal == "expected":
        return feedback
    if signal == "shuffled":
        values = [a.mean_learnability for a in feedback.arms]
        rng.shuffle(values)
        arms = [
            a.model_copy(update={"mean_learnability": v})
            for a, v in zip(feedback.arms, values, strict=True)
        ]
        return feedback.model_copy(update={"arms": arms})
    if signal != "progress":
        raise ValueError(f"unknown gym signal {signal!r}; use expected, progress or shuffled")
    for arm in skill:
        mean = sum(_clip(skill[arm] + rng.gauss(0, config.noise)) for _ in range(config.probe))
        mean /= config.probe
        if arm in probes:
            change = abs(mean - probes[arm])
            progress[arm] = change if arm not in progress else 0.5 * progress[arm] + 0.5 * change
        probes[arm] = mean
    if not progress:
        return feedback
    arms = [
        a.model_copy(update={"mean_learnability": min(1.0, progress.get(a.arm, 0.0))})
        for a in feedback.arms
    ]
    return feedback.model_copy(update={"arms": arms})


def frontier_world(**overrides: Any) -> GymConfig:
    """A chain of prerequisites, a mastered arm, an unlearnable one and an unfillable one."""
    arms = [
        GymArm("count", start=0.3, rate=0.006),
        GymArm("size", start=0.05, rate=0.006, prerequisite=("count", 1)),
        GymArm("route", start=0.05, rate=0.006, prerequisite=("size", 1)),
        GymArm("seen", start=0.95, ceiling=0.97, rate=0.01),
        GymArm("order", start=0.05, rate=0.0),
        GymArm("appear", start=0.05, rate=0.006, fill=0.0),
    ]
    return replace(GymConfig(arms=arms), **overrides)


def flat_world(**overrides: Any) -> GymConfig:
    """No frontier: every arm learns the same way from the same start."""
    arms = [GymArm(f"task{i}", start=0.2, rate=0.006) for i in range(6)]
    return replace(GymConfig(arms=arms), **overrides)
