"""Proposers: the programmatic one (default) and the LLM agent; one registry decides.

`PROPOSERS` maps `proposer.kind` to a class; the loop and `ouroboros propose` build every
proposer through it (`make_config`, then `from_config`), and plan a round from
`arms_for(config)` without building one. Adding a proposer: a module here with a class that
implements `Proposer` (agents/proposers/base.py) plus the four class-level members
`config_class`, `make_config`, `arms_for` and `from_config`, and one line in `PROPOSERS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.curriculum import Arm
from agents.proposers.base import (
    ArmOutcome,
    ProposalBatch,
    Proposer,
    ProposerCommon,
    ProposerResources,
    plan_and_propose,
)
from agents.proposers.llm import LLMProposer, LLMProposerConfig
from agents.proposers.programmatic import ProgrammaticConfig, ProgrammaticProposer
from common.errors import UserError

PROPOSERS: dict[str, type] = {"programmatic": ProgrammaticProposer, "llm": LLMProposer}


def proposer_class(kind: str, where: str = "proposer.kind") -> type:
    """The class registered as `kind`; an unknown kind is a user error listing the choices."""
    if kind not in PROPOSERS:
        raise UserError(
            f"invalid configuration at '{where}': unknown proposer {kind!r}; "
            f"choose one of {', '.join(sorted(PROPOSERS))} (agents/proposers/__init__.py)"
        )
    return PROPOSERS[kind]


def proposer_config(
    kind: str, common: ProposerCommon, settings: Mapping[str, Any] | None = None
) -> Any:
    """The proposer's own config from the run's shared values and `proposer.settings`."""
    return proposer_class(kind).make_config(common, settings or {})


def proposer_arms(kind: str, config: Any) -> list[Arm]:
    """Every (task type, level) the proposer can be asked for, without building it."""
    return proposer_class(kind).arms_for(config)


def make_proposer(kind: str, config: Any, resources: ProposerResources | None = None) -> Any:
    """The proposer registered as `kind`, built from its config and the caller's resources."""
    return proposer_class(kind).from_config(config, resources)


__all__ = [
    "PROPOSERS",
    "ArmOutcome",
    "LLMProposer",
    "LLMProposerConfig",
    "ProgrammaticConfig",
    "ProgrammaticProposer",
    "ProposalBatch",
    "Proposer",
    "ProposerCommon",
    "ProposerResources",
    "make_proposer",
    "plan_and_propose",
    "proposer_arms",
    "proposer_class",
    "proposer_config",
]
