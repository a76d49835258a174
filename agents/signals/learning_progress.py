"""Learning progress (TSCL): how fast each arm's score moves between rounds.

Per sample, p and its variance are expected_score's (so the bands keep their meaning).
Per arm, a fixed probe set (the first accepted samples of that arm, kept for the run)
is scored with expected_score every round; with m_t the arm's mean probe score,
LP_t = (1 - a) * LP_{t-1} + a * |m_t - m_{t-1}| (LP_1 = |m_1 - m_0|), and LP replaces
the arm's learnability in the curriculum. Arms measured once have no progress yet.
Cost: expected_score on the new samples plus on the probe set (probe_per_arm per arm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agents.signals.base import SignalFromConfig, SignalValue
from agents.signals.expected_score import ExpectedScore
from agents.solver.items import SolverItem

Arm = tuple[str, int]


@dataclass
class LearningProgress(SignalFromConfig):
    name: ClassVar[str] = "learning_progress"
    needs_local_solver: ClassVar[bool] = True
    smoothing: float = field(
        default=0.5, metadata={"help": "EMA weight a of the newest |change| (1: no memory)."}
    )
    probe_per_arm: int = field(default=8, metadata={"help": "Probe samples kept per arm."})
    grid_size: int = field(default=41, metadata={"help": "expected_score's numeric grid."})
    span: float = field(default=1.0, metadata={"help": "expected_score's grid span (decades)."})

    def inner(self) -> ExpectedScore:
        return ExpectedScore(grid_size=self.grid_size, span=self.span)

    def score(self, solver: Any, items: Sequence[SolverItem]) -> list[SignalValue]:
        return self.inner().score(solver, items)

    def probe_means(
        self, solver: Any, items: Sequence[SolverItem], arms: Sequence[Arm]
    ) -> dict[Arm, float]:
        """Mean expected score per arm on the probe set (`arms[i]` is `items[i]`'s arm)."""
        sums: dict[Arm, list[float]] = {}
        for arm, value in zip(arms, self.score(solver, items), strict=True):
            sums.setdefault(arm, []).append(value.p)
        return {arm: sum(ps) / len(ps) for arm, ps in sums.items()}

    def progress(self, rounds: Sequence[Mapping[Arm, float]]) -> dict[Arm, float]:
        """EMA of |change| per arm over consecutive probe rounds (oldest first)."""
        out: dict[Arm, float] = {}
        last: dict[Arm, float] = {}
        for means in rounds:
            for arm, mean in means.items():
                if arm in last:
                    change = abs(mean - last[arm])
                    out[arm] = (
                        change
                        if arm not in out
                        else (1 - self.smoothing) * out[arm] + self.smoothing * change
                    )
                last[arm] = mean
        return out
