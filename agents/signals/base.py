"""What every difficulty signal returns, and the protocol the loop's scoring step calls.

A signal turns the current solver and a list of accepted samples into, per sample, an
expected score p in [0, 1] (one scale for multiple choice and numbers, so arms of both
kinds compete fairly in the curriculum) and a learnability value (how much a sample at
this p has left to teach; the curriculum favours arms where it is high).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, Self

from pydantic import BaseModel, Field

from agents.records import Sample
from agents.solver.items import SolverItem


class SignalValue(BaseModel):
    """One sample's difficulty under one signal."""

    sample_id: str | None
    p: float = Field(ge=0.0, le=1.0, description="Expected score of the solver on this sample.")
    learnability: float = Field(
        ge=0.0, le=1.0, description="What is left to learn here (a variance, or a progress rate)."
    )
    letter_probs: dict[str, float] | None = Field(
        default=None, description="Multiple choice: the distribution over the option letters."
    )
    detail: dict[str, Any] = Field(
        default_factory=dict, description="Signal-specific extras (sampled replies, grid size)."
    )

    def apply_to(self, sample: Sample) -> Sample:
        """A copy of `sample` carrying this signal (p goes where the loop reads confidence)."""
        return sample.model_copy(
            update={
                "confidence": self.p,
                "learnability": self.learnability,
                "letter_probs": self.letter_probs,
            }
        )


class DifficultySignal(Protocol):
    """A registered signal: `name` is its `loop.signal` value."""

    name: ClassVar[str]
    #: Whether it reads the transformers model directly (token scores, sampling), which the
    #: vllm and vilasr backends do not offer; checked before a run starts.
    needs_local_solver: ClassVar[bool]

    def score(self, solver: Any, items: Sequence[SolverItem]) -> list[SignalValue]:
        """Values for `items` in input order; items carry their ground truth."""
        ...


class SignalFromConfig:
    """The registry's constructor for a signal dataclass: `from_config(loop.signal_settings)`."""

    name: ClassVar[str]

    @classmethod
    def from_config(cls, settings: Mapping[str, Any] | None = None) -> Self:
        """The signal from its own settings; a key it does not take is a user error."""
        from common.errors import UserError

        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(settings or {}) - known
        if unknown:
            raise UserError(
                f"loop.signal_settings has {sorted(unknown)}, which {cls.name} does not take; "
                f"it takes {sorted(known) or 'nothing'}"
            )
        return cls(**(settings or {}))


def require_local_solver(solver: Any, signal: str) -> None:
    """Signals beyond token_confidence read the model directly; say so for other backends."""
    if not hasattr(solver, "token_scores"):
        raise TypeError(
            f"loop.signal={signal!r} needs the transformers solver backend "
            f"(got {type(solver).__name__}); use solver.settings.backend=transformers or "
            "loop.signal=token_confidence"
        )
