"""Difficulty signals: one registry, chosen by `loop.signal`.

Adding a signal is one file (a dataclass with `name` and `score(solver, items)`, see
`base.py`) plus one line in SIGNALS. docs/loop.md lists the formulas and costs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agents.signals.base import DifficultySignal, SignalValue
from agents.signals.expected_score import ExpectedScore
from agents.signals.learning_progress import LearningProgress
from agents.signals.solve_rate import SolveRate
from agents.signals.token_confidence import TokenConfidence

SIGNALS: dict[str, type] = {
    "token_confidence": TokenConfidence,
    "expected_score": ExpectedScore,
    "solve_rate": SolveRate,
    "learning_progress": LearningProgress,
}


def make_signal(name: str, settings: dict[str, Any] | None = None) -> Any:
    """The configured signal; unknown names and settings are user errors that list the choices."""
    from common.errors import UserError

    if name not in SIGNALS:
        raise UserError(f"unknown loop.signal {name!r}; choose one of {sorted(SIGNALS)}")
    cls = SIGNALS[name]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(settings or {}) - known
    if unknown:
        raise UserError(
            f"loop.signal_settings has {sorted(unknown)}, which {name} does not take; "
            f"it takes {sorted(known) or 'nothing'}"
        )
    return cls(**(settings or {}))


__all__ = ["SIGNALS", "DifficultySignal", "SignalValue", "make_signal"]
