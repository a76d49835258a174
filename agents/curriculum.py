"""Difficulty feedback and the curriculum policy that turns it into next round's quotas.

The solver's confidence p on each accepted sample is summarised per arm, an arm being
one (task type, difficulty level). Samples with p > easy are already mastered, p < hard
are out of reach; the frontier in between is where training pays. The default policy is
a bandit over arms that favours learnability p(1 - p) (as R-Zero and Absolute Zero do),
with an exploration bonus and a floor so that no arm starves. `uniform` is the static
baseline. Both are deterministic given their seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from agents.records import Sample

Arm = tuple[str, int]


class BandThresholds(BaseModel):
    easy: float = Field(0.9, gt=0, lt=1, description="p above this is 'easy' (already mastered).")
    hard: float = Field(0.1, gt=0, lt=1, description="p below this is 'hard' (out of reach).")


class ArmStats(BaseModel):
    """What the solver made of one (task type, level) in one round (or several, merged)."""

    question_type: str
    level: int
    count: int = Field(ge=0)
    mean_confidence: float = Field(ge=0, le=1)
    mean_learnability: float = Field(ge=0, le=0.25, description="Mean of p(1 - p).")
    easy: float = Field(ge=0, le=1, description="Share of samples with p > easy threshold.")
    frontier: float = Field(ge=0, le=1)
    hard: float = Field(ge=0, le=1)

    @property
    def arm(self) -> Arm:
        return (self.question_type, self.level)


class Feedback(BaseModel):
    """Per-arm confidence bands: the graph state handed to the proposer."""

    thresholds: BandThresholds = Field(default_factory=BandThresholds)
    arms: list[ArmStats] = Field(default_factory=list)

    def by_arm(self) -> dict[Arm, ArmStats]:
        return {stats.arm: stats for stats in self.arms}


def summarize(samples: Iterable[Sample], thresholds: BandThresholds | None = None) -> Feedback:
    """Aggregate scored, accepted samples into per-arm bands."""
    thresholds = thresholds or BandThresholds()
    groups: dict[Arm, list[float]] = {}
    for sample in samples:
        if sample.verdict != "accepted" or sample.confidence is None:
            continue
        arm = (sample.proposal.question_type, sample.proposal.level)
        groups.setdefault(arm, []).append(float(sample.confidence))
    arms = []
    for (task, level), ps in sorted(groups.items()):
        n = len(ps)
        arms.append(
            ArmStats(
                question_type=task,
                level=level,
                count=n,
                mean_confidence=sum(ps) / n,
                mean_learnability=sum(p * (1 - p) for p in ps) / n,
                easy=sum(p > thresholds.easy for p in ps) / n,
                hard=sum(p < thresholds.hard for p in ps) / n,
                frontier=sum(thresholds.hard <= p <= thresholds.easy for p in ps) / n,
            )
        )
    return Feedback(thresholds=thresholds, arms=arms)


def merge(previous: Feedback | None, current: Feedback, decay: float = 0.5) -> Feedback:
    """Combine rounds: the newest round counts fully, older evidence is down-weighted by `decay`.

    Arms not measured this round keep their (decayed) history, so the bandit remembers them.
    """
    if previous is None:
        return current
    old, new = previous.by_arm(), current.by_arm()
    merged: list[ArmStats] = []
    for arm in sorted(set(old) | set(new)):
        parts = [(s, w) for s, w in ((old.get(arm), decay), (new.get(arm), 1.0)) if s is not None]
        weights = [s.count * w for s, w in parts]
        total = sum(weights)
        if total == 0:
            merged.append(parts[-1][0])
            continue

        def mix(name: str, parts=parts, weights=weights, total=total) -> float:
            return (
                sum(getattr(s, name) * w for (s, _), w in zip(parts, weights, strict=True)) / total
            )

        merged.append(
            ArmStats(
                question_type=arm[0],
                level=arm[1],
                count=max(1, round(total)),
                mean_confidence=mix("mean_confidence"),
                mean_learnability=min(0.25, mix("mean_learnability")),
                easy=mix("easy"),
                frontier=mix("frontier"),
                hard=mix("hard"),
            )
        )
    return Feedback(thresholds=current.thresholds, arms=merged)


def _largest_remainder(weights: dict[Arm, float], total: int, rng: random.Random) -> dict[Arm, int]:
    """Integer quotas proportional to `weights` that add up to `total`; ties broken by `rng`."""
    norm = sum(weights.values())
    exact = {arm: total * w / norm for arm, w in weights.items()}
    quotas = {arm: math.floor(x) for arm, x in exact.items()}
    order = sorted(weights, key=lambda arm: (-(exact[arm] - quotas[arm]), rng.random()))
    for arm in order[: total - sum(quotas.values())]:
        quotas[arm] += 1
    return quotas


@dataclass
class UniformPolicy:
    """The static baseline: the same share for every arm, whatever the solver does."""

    seed: int = field(default=0, metadata={"help": "Seed for breaking ties in rounding."})

    def allocate(
        self, arms: Sequence[Arm], total: int, feedback: Feedback | None = None
    ) -> dict[Arm, int]:
        rng = random.Random(self.seed)
        return _largest_remainder({arm: 1.0 for arm in arms}, total, rng)


@dataclass
class LearnabilityBandit:
    """Favours arms whose samples land in the frontier; explores so no arm starves.

    score(arm) = smoothed learnability (mean p(1-p), shrunk toward `prior` for arms with
    few samples) + exploration * sqrt(ln(N + 1) / (n + 1)); quotas follow
    softmax(score / temperature), mixed with a uniform floor of `min_share`.
    """

    seed: int = field(default=0, metadata={"help": "Seed for breaking ties in rounding."})
    prior: float = field(
        default=0.125, metadata={"help": "Learnability assumed for an unseen arm (max is 0.25)."}
    )
    prior_weight: float = field(
        default=4.0, metadata={"help": "How many samples the prior is worth."}
    )
    exploration: float = field(
        default=0.05, metadata={"help": "UCB bonus scale for rarely seen arms."}
    )
    temperature: float = field(
        default=0.03, metadata={"help": "Softmax temperature over arm scores."}
    )
    min_share: float = field(
        default=0.2, metadata={"help": "Share of the budget spread uniformly over all arms."}
    )

    def scores(self, arms: Sequence[Arm], feedback: Feedback | None) -> dict[Arm, float]:
        stats = feedback.by_arm() if feedback else {}
        total_n = sum(s.count for s in stats.values())
        out: dict[Arm, float] = {}
        for arm in arms:
            s = stats.get(arm)
            n = s.count if s else 0
            observed = s.mean_learnability if s else 0.0
            smoothed = (observed * n + self.prior * self.prior_weight) / (n + self.prior_weight)
            bonus = self.exploration * math.sqrt(math.log(total_n + 1) / (n + 1))
            out[arm] = smoothed + bonus
        return out

    def allocate(
        self, arms: Sequence[Arm], total: int, feedback: Feedback | None = None
    ) -> dict[Arm, int]:
        rng = random.Random(self.seed)
        scores = self.scores(arms, feedback)
        top = max(scores.values())
        soft = {arm: math.exp((s - top) / self.temperature) for arm, s in scores.items()}
        norm = sum(soft.values())
        weights = {
            arm: (1 - self.min_share) * soft[arm] / norm + self.min_share / len(arms)
            for arm in arms
        }
        return _largest_remainder(weights, total, rng)


POLICIES = {"bandit": LearnabilityBandit, "uniform": UniformPolicy}


def make_policy(name: str, seed: int = 0) -> UniformPolicy | LearnabilityBandit:
    if name not in POLICIES:
        from scenes.errors import UserError

        raise UserError(f"unknown curriculum policy {name!r}; choose one of {sorted(POLICIES)}")
    return POLICIES[name](seed=seed)
