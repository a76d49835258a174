"""Difficulty signals: one registry, chosen by `loop.signal`.

Adding a signal is one file (a dataclass subclassing `SignalFromConfig`, which gives the
registry's `from_config`, with `name` and `score(solver, items)`, see `base.py`) plus one
line in SIGNALS. docs/loop.md lists the formulas and costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.signals.base import DifficultySignal, SignalFromConfig, SignalValue
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


def make_signal(name: str, settings: Mapping[str, Any] | None = None) -> Any:
    """The signal registered as `name`, built by its `from_config`; unknown names and
    settings are user errors that list the choices."""
    from common.errors import UserError

    if name not in SIGNALS:
        raise UserError(f"unknown loop.signal {name!r}; choose one of {sorted(SIGNALS)}")
    return SIGNALS[name].from_config(settings)


__all__ = ["SIGNALS", "DifficultySignal", "SignalFromConfig", "SignalValue", "make_signal"]
