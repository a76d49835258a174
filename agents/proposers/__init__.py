"""Proposers: the programmatic one (default) and the LLM agent; one name each.

Adding a proposer: implement `Proposer` (agents/proposers/base.py) in a module here and add
one line to `PROPOSERS`.
"""

from __future__ import annotations

from agents.proposers.base import (
    ArmOutcome,
    ProposalBatch,
    Proposer,
    plan_and_propose,
)
from agents.proposers.llm import LLMProposer, LLMProposerConfig
from agents.proposers.programmatic import ProgrammaticConfig, ProgrammaticProposer

PROPOSERS: dict[str, type] = {"programmatic": ProgrammaticProposer, "llm": LLMProposer}

__all__ = [
    "PROPOSERS",
    "ArmOutcome",
    "LLMProposer",
    "LLMProposerConfig",
    "ProgrammaticConfig",
    "ProgrammaticProposer",
    "ProposalBatch",
    "Proposer",
    "plan_and_propose",
]
