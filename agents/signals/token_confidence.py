"""The paper's signal: the geometric mean of the ground truth's token probabilities.

p = exp(mean_l log P(a_l | frames, question, a_<l)), learnability = p(1 - p).
Cost: one teacher-forced pass per sample (frames shared per frame set). Kept as the
baseline: for a multi-token number p is near 0 whatever the solver knows, so it is not
an expected score (docs/loop.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from agents.signals.base import SignalFromConfig, SignalValue
from agents.solver.items import SolverItem


@dataclass
class TokenConfidence(SignalFromConfig):
    name: ClassVar[str] = "token_confidence"
    needs_local_solver: ClassVar[bool] = False

    def score(self, solver: Any, items: Sequence[SolverItem]) -> list[SignalValue]:
        results = solver.confidence(items) if items else []
        return [
            SignalValue(
                sample_id=result.sample_id,
                p=result.confidence,
                learnability=result.confidence * (1 - result.confidence),
                letter_probs=result.letter_probs,
            )
            for result in results
        ]
