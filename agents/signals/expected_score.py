"""The solver's expected benchmark score under its own answer distribution.

- Multiple choice: p = P(right letter), the answer-position distribution renormalised
  over the option letters; learnability = p(1 - p), the variance of the 0/1 score.
- Numeric: candidates c_1..c_K on a log-spaced grid around the ground truth g
  (g * 10^u, u evenly spaced in [-span, span], written with g's decimals, g included),
  each scored as a whole reply (answer tokens plus end of turn) behind the shared
  frame prefix; q = softmax over the candidates' summed log-probabilities;
  p = E_q[MRA(c, g)], learnability = Var_q[MRA(c, g)].
Cost: multiple choice is one teacher-forced pass, like token_confidence; a numeric
sample costs K short suffix rows against its frame prefix (the frames run once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agents.answer_scoring import mean_relative_accuracy
from agents.signals.base import SignalFromConfig, SignalValue, require_local_solver
from agents.solver.items import SolverItem


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def candidate_grid(ground_truth: str, size: int = 41, span: float = 1.0) -> list[str]:
    """Distinct positive answers from g/10^span to g*10^span, formatted like `ground_truth`."""
    truth = float(ground_truth)
    if not (math.isfinite(truth) and truth > 0):
        raise ValueError(f"the numeric grid needs a positive ground truth, got {ground_truth!r}")
    decimals = _decimals(ground_truth.strip())
    found: dict[str, None] = {ground_truth.strip(): None}
    for i in range(size):
        u = -span + 2 * span * i / (size - 1) if size > 1 else 0.0
        text = f"{truth * 10**u:.{decimals}f}"
        if float(text) > 0:
            found.setdefault(text, None)
    return sorted(found, key=float)


def distribution_moments(
    log_probs: Sequence[float], scores: Sequence[float]
) -> tuple[float, float]:
    """Mean and variance of `scores` under softmax(`log_probs`)."""
    top = max(log_probs)
    weights = [math.exp(lp - top) for lp in log_probs]
    norm = sum(weights)
    mean = sum(w * s for w, s in zip(weights, scores, strict=True)) / norm
    second = sum(w * s * s for w, s in zip(weights, scores, strict=True)) / norm
    return min(1.0, max(0.0, mean)), max(0.0, second - mean * mean)


@dataclass
class ExpectedScore(SignalFromConfig):
    name: ClassVar[str] = "expected_score"
    needs_local_solver: ClassVar[bool] = True
    grid_size: int = field(default=41, metadata={"help": "Candidate numbers per numeric sample."})
    span: float = field(
        default=1.0, metadata={"help": "Grid covers g/10^span .. g*10^span (decades)."}
    )

    def score(self, solver: Any, items: Sequence[SolverItem]) -> list[SignalValue]:
        require_local_solver(solver, self.name)
        values: list[SignalValue | None] = [None] * len(items)
        choice = [i for i, item in enumerate(items) if item.answer_kind == "multiple_choice"]
        if choice:
            results = solver.confidence([items[i] for i in choice])
            for i, result in zip(choice, results, strict=True):
                letters = result.letter_probs or {}
                p = min(1.0, max(0.0, letters.get(str(items[i].ground_truth).strip(), 0.0)))
                values[i] = SignalValue(
                    sample_id=items[i].sample_id,
                    p=p,
                    learnability=p * (1 - p),
                    letter_probs=result.letter_probs,
                )
        numeric = [i for i, item in enumerate(items) if item.answer_kind != "multiple_choice"]
        for i, value in zip(
            numeric, self.numeric([items[i] for i in numeric], solver), strict=True
        ):
            values[i] = value
        return [value for value in values if value is not None]

    def numeric(self, items: Sequence[SolverItem], solver: Any) -> list[SignalValue]:
        """Expected MRA over each item's candidate grid, all candidates in one scoring call."""
        if not items:
            return []
        grids = [
            candidate_grid(str(item.ground_truth), self.grid_size, self.span) for item in items
        ]
        expanded = [
            item.model_copy(update={"ground_truth": candidate})
            for item, grid in zip(items, grids, strict=True)
            for candidate in grid
        ]
        _, scores = solver.token_scores(expanded, include_end_of_turn=True)
        out, offset = [], 0
        for item, grid in zip(items, grids, strict=True):
            log_probs = [sum(s.token_log_probs) for s in scores[offset : offset + len(grid)]]
            offset += len(grid)
            truth = float(str(item.ground_truth))
            mras = [mean_relative_accuracy(float(c), truth) for c in grid]
            p, variance = distribution_moments(log_probs, mras)
            out.append(
                SignalValue(
                    sample_id=item.sample_id,
                    p=p,
                    learnability=variance,
                    detail={"candidates": len(grid)},
                )
            )
        return out
