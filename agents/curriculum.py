"""Difficulty feedback and the curriculum policy that turns it into next round's quotas.

The solver's confidence p on each accepted sample is summarised per arm, an arm being
one (task type, difficulty level). Samples with p > easy are already mastered, p < hard
are out of reach; the frontier in between is where training pays. The default policy is
a bandit over arms that favours learnability p(1 - p) (as R-Zero and Absolute Zero do),
with an exploration bonus and a floor so that no arm starves. `uniform` is the static
baseline. All are deterministic given their seed and the round. The band edges and the
held-out task names come from agents/bands.py.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import BaseModel, Field

from agents.bands import BandThresholds, heldout_score, heldout_task
from agents.records import Sample

Arm = tuple[str, int]


class ArmStats(BaseModel):
    """What the solver made of one (task type, level) in one round (or several, merged)."""

    question_type: str
    level: int
    count: int = Field(ge=0)
    mean_confidence: float = Field(ge=0, le=1)
    mean_learnability: float = Field(
        ge=0,
        le=1,
        description="Mean learnability under the configured signal (p(1 - p) when unset).",
    )
    easy: float = Field(ge=0, le=1, description="Share of samples with p > easy threshold.")
    frontier: float = Field(ge=0, le=1)
    hard: float = Field(ge=0, le=1)
    requested: float = Field(
        default=0, ge=0, description="Slots the policy asked for (sum over rounds)."
    )
    made: float = Field(
        default=0, ge=0, description="Accepted samples made for those slots (sum over rounds)."
    )

    @property
    def arm(self) -> Arm:
        return (self.question_type, self.level)


class DifficultyFeedback(BaseModel):
    """Per-arm confidence bands: what the loop feeds back to the policy and the proposer."""

    thresholds: BandThresholds = Field(default_factory=BandThresholds)
    arms: list[ArmStats] = Field(default_factory=list)
    heldout: dict[str, float] = Field(
        default_factory=dict,
        description="Latest held-out score per held-out task (the yield-aware policy's floor); "
        "agents.bands.heldout_score maps a question type onto these names.",
    )

    def by_arm(self) -> dict[Arm, ArmStats]:
        return {stats.arm: stats for stats in self.arms}


def summarize(
    samples: Iterable[Sample],
    thresholds: BandThresholds | None = None,
    requested: dict[Arm, int] | None = None,
) -> DifficultyFeedback:
    """Aggregate scored, accepted samples into per-arm bands.

    `requested` (slots the policy asked for per arm) adds arms that made nothing, so a
    policy can count the unmade slots as evidence.
    """
    thresholds = thresholds or BandThresholds()
    groups: dict[Arm, list[tuple[float, float]]] = {}
    made: dict[Arm, int] = {}
    for sample in samples:
        if sample.verdict != "accepted":
            continue
        arm = (sample.proposal.question_type, sample.proposal.level)
        made[arm] = made.get(arm, 0) + 1
        if sample.confidence is None:
            continue
        p = float(sample.confidence)
        learn = p * (1 - p) if sample.learnability is None else float(sample.learnability)
        groups.setdefault(arm, []).append((p, learn))
    requested = requested or {}
    arms = []
    for task, level in sorted(set(groups) | set(requested)):
        values = groups.get((task, level), [])
        ps = [p for p, _ in values]
        n = max(1, len(ps))
        shares = thresholds.shares(ps)
        arms.append(
            ArmStats(
                question_type=task,
                level=level,
                count=len(ps),
                mean_confidence=sum(ps) / n,
                mean_learnability=sum(learn for _, learn in values) / n,
                **shares,
                requested=requested.get((task, level), 0),
                made=made.get((task, level), 0),
            )
        )
    return DifficultyFeedback(thresholds=thresholds, arms=arms)


def merge(
    previous: DifficultyFeedback | None, current: DifficultyFeedback, decay: float = 0.5
) -> DifficultyFeedback:
    """Combine rounds: the newest round counts fully, older evidence is down-weighted by `decay`.

    Arms not measured this round keep their (decayed) history, so the bandit remembers them.
    Requested and made slots add up without decay: an arm that never fills stays known as one.
    """
    if previous is None:
        return current
    old, new = previous.by_arm(), current.by_arm()
    merged: list[ArmStats] = []
    for arm in sorted(set(old) | set(new)):
        parts = [(s, w) for s, w in ((old.get(arm), decay), (new.get(arm), 1.0)) if s is not None]
        weights = [s.count * w for s, w in parts]
        total = sum(weights)
        slots = {name: sum(getattr(s, name) for s, _ in parts) for name in ("requested", "made")}
        if total == 0:
            merged.append(parts[-1][0].model_copy(update=slots))
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
                mean_learnability=min(1.0, mix("mean_learnability")),
                easy=mix("easy"),
                frontier=mix("frontier"),
                hard=mix("hard"),
                **slots,
            )
        )
    return DifficultyFeedback(thresholds=current.thresholds, arms=merged, heldout=current.heldout)


def policy_from_config(cls: type[Any], seed: int, settings: Mapping[str, Any] | None) -> Any:
    """`cls` from the run's seed and its own settings (a wrong key lists the known ones)."""
    from common.settings import build_dataclass

    return build_dataclass(cls, {**(settings or {}), "seed": seed}, "policy settings", ["seed"])


def round_rng(seed: int, round_index: int = 0) -> random.Random:
    """The tie-break generator of one round: the seed alone in round 0, then one per round,
    so a policy with fewer slots than arms does not ask for the same arms every round."""
    if round_index == 0:
        return random.Random(seed)
    return random.Random(random.Random(f"{seed}:{round_index}").randrange(2**31))


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

    @classmethod
    def from_config(cls, seed: int = 0, settings: Mapping[str, Any] | None = None) -> Self:
        """The registry's constructor: the run's seed plus the policy's own settings."""
        return policy_from_config(cls, seed, settings)

    def allocate(
        self,
        arms: Sequence[Arm],
        total: int,
        feedback: DifficultyFeedback | None = None,
        round_index: int = 0,
    ) -> dict[Arm, int]:
        rng = round_rng(self.seed, round_index)
        return _largest_remainder({arm: 1.0 for arm in arms}, total, rng)


@dataclass
class LearnabilityBandit:
    """Favours arms whose samples land in the frontier; explores so no arm starves.

    score(arm) = smoothed learnability (mean p(1-p), shrunk toward `prior` for arms with
    few samples) + exploration * sqrt(ln(N + 1) / (n + 1)); quotas follow
    softmax(score / temperature), mixed with a uniform floor of `min_share`.
    """

    seed: int = field(default=0, metadata={"help": "Seed for breaking ties in rounding."})

    @classmethod
    def from_config(cls, seed: int = 0, settings: Mapping[str, Any] | None = None) -> Self:
        """The registry's constructor: the run's seed plus the policy's own settings."""
        return policy_from_config(cls, seed, settings)

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

    def scores(self, arms: Sequence[Arm], feedback: DifficultyFeedback | None) -> dict[Arm, float]:
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
        self,
        arms: Sequence[Arm],
        total: int,
        feedback: DifficultyFeedback | None = None,
        round_index: int = 0,
    ) -> dict[Arm, int]:
        rng = round_rng(self.seed, round_index)
        scores = self.scores(arms, feedback)
        top = max(scores.values())
        soft = {arm: math.exp((s - top) / self.temperature) for arm, s in scores.items()}
        norm = sum(soft.values())
        weights = {
            arm: (1 - self.min_share) * soft[arm] / norm + self.min_share / len(arms)
            for arm in arms
        }
        return _largest_remainder(weights, total, rng)


@dataclass
class YieldAwareBandit:
    """Learnability per requested slot, so arms that make nothing lose their share.

    For each arm: yield y = (made + 1) / (requested + 1) (an unseen arm keeps 1), smoothed
    learnability l = (sum of learnability + prior * prior_weight) / (scored + prior_weight)
    with the prior the mean over measured arms, and value v = l * y: unmade slots count as
    samples with nothing to learn. Arms with y < min_yield get nothing. Quotas follow
    softmax((v / max v + bonus) / temperature), bonus = exploration * sqrt(ln(N + 1) / (n + 1))
    over requested slots, mixed with a floor of `min_share` split evenly over the held-out
    tasks (DifficultyFeedback.heldout) whose score is below `saturation`, then over the
    fillable arms they score; without held-out scores the floor covers every fillable arm.
    Scores are normalised by the best arm, so any signal's learnability scale works.
    """

    seed: int = field(default=0, metadata={"help": "Seed for breaking ties in rounding."})

    @classmethod
    def from_config(cls, seed: int = 0, settings: Mapping[str, Any] | None = None) -> Self:
        """The registry's constructor: the run's seed plus the policy's own settings."""
        return policy_from_config(cls, seed, settings)

    prior_weight: float = field(
        default=4.0, metadata={"help": "How many samples the learnability prior is worth."}
    )
    exploration: float = field(
        default=0.1, metadata={"help": "UCB bonus scale (relative to the best arm's value)."}
    )
    temperature: float = field(
        default=0.15, metadata={"help": "Softmax temperature over normalised arm values."}
    )
    min_share: float = field(
        default=0.2, metadata={"help": "Share of the budget kept for held-out tasks (floor)."}
    )
    min_yield: float = field(
        default=0.1, metadata={"help": "Arms making fewer accepted samples per slot are dropped."}
    )
    saturation: float = field(
        default=0.9, metadata={"help": "Held-out score at which a task no longer needs a floor."}
    )

    def values(self, arms: Sequence[Arm], feedback: DifficultyFeedback | None) -> dict[Arm, float]:
        """v = smoothed learnability * yield per arm (0 for arms that make nothing)."""
        stats = feedback.by_arm() if feedback else {}
        measured = [s.mean_learnability for s in stats.values() if s.count > 0]
        prior = sum(measured) / len(measured) if measured else 0.125
        out: dict[Arm, float] = {}
        for arm in arms:
            s = stats.get(arm)
            n = s.count if s else 0
            learn = ((s.mean_learnability * n if s else 0.0) + prior * self.prior_weight) / (
                n + self.prior_weight
            )
            out[arm] = learn * self.arm_yield(s) if self.arm_yield(s) >= self.min_yield else 0.0
        return out

    @staticmethod
    def arm_yield(stats: ArmStats | None) -> float:
        if stats is None:
            return 1.0
        return min(1.0, (stats.made + 1) / (stats.requested + 1))

    def floor(self, arms: Sequence[Arm], feedback: DifficultyFeedback | None) -> dict[Arm, float]:
        """The floor's share per arm: held-out tasks not yet saturated, their fillable arms.

        Arms are grouped by the held-out task that scores them (agents.bands), so the three
        relative-direction question types share `object_rel_direction`'s part."""
        stats = feedback.by_arm() if feedback else {}
        fillable = [a for a in arms if self.arm_yield(stats.get(a)) >= self.min_yield]
        heldout = feedback.heldout if feedback else {}
        groups: dict[str, list[Arm]] = {}
        for arm in fillable:
            if not heldout:
                groups.setdefault(arm[0], []).append(arm)
                continue
            task, score = heldout_task(arm[0], heldout), heldout_score(arm[0], heldout)
            if task is not None and score is not None and score < self.saturation:
                groups.setdefault(task, []).append(arm)
        out = dict.fromkeys(arms, 0.0)
        for members in groups.values():
            for arm in members:
                out[arm] = 1.0 / len(groups) / len(members)
        return out

    def allocate(
        self,
        arms: Sequence[Arm],
        total: int,
        feedback: DifficultyFeedback | None = None,
        round_index: int = 0,
    ) -> dict[Arm, int]:
        rng = round_rng(self.seed, round_index)
        values = self.values(arms, feedback)
        live = [a for a in arms if values[a] > 0]
        if not live:  # nothing is fillable or measured: spread evenly
            return _largest_remainder(dict.fromkeys(arms, 1.0), total, rng)
        stats = feedback.by_arm() if feedback else {}
        slots = {a: stats[a].requested if a in stats else 0.0 for a in arms}
        total_slots = sum(slots.values())
        best = max(values[a] for a in live)
        scores = {
            a: values[a] / best
            + self.exploration * math.sqrt(math.log(total_slots + 1) / (slots[a] + 1))
            for a in live
        }
        top = max(scores.values())
        soft = {a: math.exp((scores[a] - top) / self.temperature) for a in live}
        norm = sum(soft.values())
        floor = self.floor(arms, feedback)
        floor_share = self.min_share if sum(floor.values()) > 0 else 0.0
        weights = {
            a: (1 - floor_share) * soft.get(a, 0.0) / norm + floor_share * floor[a] for a in arms
        }
        quotas = _largest_remainder({a: w for a, w in weights.items() if w > 0}, total, rng)
        return {a: quotas.get(a, 0) for a in arms}


POLICIES = {
    "bandit": LearnabilityBandit,
    "uniform": UniformPolicy,
    "yield_bandit": YieldAwareBandit,
}

Policy = UniformPolicy | LearnabilityBandit | YieldAwareBandit


def make_policy(name: str, seed: int = 0, settings: Mapping[str, Any] | None = None) -> Policy:
    """The policy registered as `name`, built by its `from_config`; unknown names and settings
    are user errors that list the choices."""
    if name not in POLICIES:
        from common.errors import UserError

        raise UserError(f"unknown curriculum policy {name!r}; choose one of {sorted(POLICIES)}")
    return POLICIES[name].from_config(seed, settings)
