"""Confidence bands, the one place that says what 'easy', 'frontier' and 'hard' mean.

A sample the solver scores p > easy is already mastered, p < hard is out of reach, and
the frontier in between is where training pays. The loop's feedback, its per-iteration
summary, the report, the benchmarks and the curriculum all band through here, so the
thresholds' defaults (EASY, HARD) and the edge rules exist once.

Also here: which held-out benchmark task scores a proposer's question type, since the
held-out report merges and splits some of them (see `heldout_names`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

from agents.records import RELATIVE_DIRECTION_LEVELS, Sample

#: Defaults of the band edges (`loop.easy`, `loop.hard`).
EASY = 0.9
HARD = 0.1

Band = Literal["easy", "frontier", "hard"]
BANDS: tuple[Band, ...] = ("easy", "frontier", "hard")

#: The held-out report scores VSI-Bench's relative direction as one task over its levels.
RELATIVE_DIRECTION = "object_rel_direction"
#: Suffixes the held-out set gives a task asked in its other answer kind
#: (evaluation.procspatial.benchmark_question_type; a test keeps the two in step).
ANSWER_KIND_SUFFIXES: tuple[str, ...] = ("_choice", "_numeric")


class BandThresholds(BaseModel):
    """Band edges: p > easy is 'easy', p < hard is 'hard', anything between is 'frontier'."""

    easy: float = Field(EASY, gt=0, lt=1, description="p above this is 'easy' (already mastered).")
    hard: float = Field(HARD, gt=0, lt=1, description="p below this is 'hard' (out of reach).")

    def band(self, p: float | None) -> Band | None:
        """The band of a confidence; None when the sample was not scored."""
        if p is None:
            return None
        return "easy" if p > self.easy else "hard" if p < self.hard else "frontier"

    def counts(self, ps: Iterable[float | None]) -> dict[Band, int]:
        """How many scored confidences fall in each band (unscored ones are skipped)."""
        out: dict[Band, int] = dict.fromkeys(BANDS, 0)
        for p in ps:
            band = self.band(p)
            if band is not None:
                out[band] += 1
        return out

    def shares(self, ps: Iterable[float | None]) -> dict[Band, float]:
        """Each band's share of the scored confidences (all 0 when none is scored)."""
        counts = self.counts(ps)
        total = sum(counts.values()) or 1
        return {band: n / total for band, n in counts.items()}


class TaskTally(BaseModel):
    """One question type in one iteration: candidates, acceptances and confidence bands."""

    proposed: int = Field(0, ge=0, description="Candidates the proposer wrote.")
    accepted: int = Field(0, ge=0, description="Candidates the verifier kept.")
    easy: int = Field(0, ge=0, description="Accepted and scored with p > easy.")
    frontier: int = Field(0, ge=0, description="Accepted and scored with hard <= p <= easy.")
    hard: int = Field(0, ge=0, description="Accepted and scored with p < hard.")
    confidence_sum: float = Field(0.0, ge=0, description="Sum of p over the scored samples.")

    @property
    def scored(self) -> int:
        return self.easy + self.frontier + self.hard

    @property
    def mean_confidence(self) -> float | None:
        return self.confidence_sum / self.scored if self.scored else None

    @property
    def bands(self) -> dict[Band, int]:
        """Scored samples per band, in BANDS order."""
        return {band: getattr(self, band) for band in BANDS}


def rejection_reason(sample: Sample) -> str:
    return sample.reason or "unknown"


def tally(
    samples: Iterable[Sample], thresholds: BandThresholds
) -> tuple[dict[str, TaskTally], dict[str, int]]:
    """Per question type (sorted): proposed, accepted, bands of the accepted samples'
    confidences; and the rejections per reason (sorted by reason).

    Pass each sample once, scored or not: a scored copy carries its confidence."""
    tasks: dict[str, TaskTally] = {}
    reasons: dict[str, int] = {}
    for sample in samples:
        row = tasks.setdefault(sample.proposal.question_type, TaskTally())
        row.proposed += 1
        if sample.verdict != "accepted":
            reason = rejection_reason(sample)
            reasons[reason] = reasons.get(reason, 0) + 1
            continue
        row.accepted += 1
        band = thresholds.band(sample.confidence)
        if band is not None:
            setattr(row, band, getattr(row, band) + 1)
            row.confidence_sum += float(sample.confidence or 0.0)
    return dict(sorted(tasks.items())), dict(sorted(reasons.items()))


def heldout_names(question_type: str) -> tuple[str, ...]:
    """The held-out report's task names that score `question_type`, its own name first.

    The report merges relative direction's three levels into `object_rel_direction`, and
    names a task asked in its other answer kind `<task>_choice` / `<task>_numeric`."""
    base = RELATIVE_DIRECTION if question_type in RELATIVE_DIRECTION_LEVELS else question_type
    names = [question_type, base, *(base + suffix for suffix in ANSWER_KIND_SUFFIXES)]
    return tuple(dict.fromkeys(names))


def heldout_task(question_type: str, heldout: Mapping[str, float]) -> str | None:
    """The held-out task `question_type` counts toward (its merged name), if it is scored."""
    found = [name for name in heldout_names(question_type) if name in heldout]
    if not found:
        return None
    return RELATIVE_DIRECTION if question_type in RELATIVE_DIRECTION_LEVELS else question_type


def heldout_score(question_type: str, heldout: Mapping[str, float]) -> float | None:
    """The lowest held-out score among the names that score `question_type` (a task is
    saturated only when every form of it is); None when the held-out set does not ask it."""
    scores = [heldout[name] for name in heldout_names(question_type) if name in heldout]
    return min(scores) if scores else None
