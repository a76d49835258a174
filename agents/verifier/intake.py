"""Intake: whatever a proposer handed over becomes a Proposal, a Sample, or a rejection.

Proposers (LLM agents especially) can emit anything: wrong types, missing fields, huge
strings, NaN. Nothing here raises for such input; it becomes a rejected Sample with
reason `malformed`, the validation error, and a truncated copy of what was given, so it
is counted and kept for audit like every other rejection.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.records import Proposal, Sample
from agents.verifier.reasons import RejectReason
from common.errors import field_problem

PLACEHOLDER = "<missing>"


@dataclass
class IntakeConfig:
    """Size limits on what a proposal may carry (larger is rejected as malformed)."""

    max_question_chars: int = field(
        default=4000, metadata={"help": "Longest question (and stated answer) accepted."}
    )
    max_option_chars: int = field(default=500, metadata={"help": "Longest option text accepted."})
    max_program_chars: int = field(
        default=100_000, metadata={"help": "Longest ground-truth program accepted."}
    )
    max_list_items: int = field(
        default=1000, metadata={"help": "Most frame indices or referenced instances accepted."}
    )
    audit_chars: int = field(
        default=2000, metadata={"help": "How much of a malformed input is kept for audit."}
    )


def admit(item: Any, config: IntakeConfig, iteration: int = 0) -> Proposal | Sample:
    """A valid Proposal or Sample (as given), or a rejected Sample saying what was wrong."""
    try:
        parsed = _parse(item)
    except (ValidationError, ValueError, TypeError, IndexError, KeyError) as error:
        return malformed(item, _describe(error), config, iteration)
    except Exception as error:  # a validator tripping over exotic input is still malformed
        return malformed(item, f"{type(error).__name__}: {error}", config, iteration)
    proposal = parsed.proposal if isinstance(parsed, Sample) else parsed
    problem = _limit_problem(proposal, config)
    if problem:
        return malformed(item, problem, config, iteration, proposal=proposal)
    return parsed


def _parse(item: Any) -> Proposal | Sample:
    if isinstance(item, Proposal | Sample):
        # re-validate: model_construct or in-place edits can bypass the validators
        return type(item).model_validate(item.model_dump())
    if isinstance(item, BaseModel):
        item = item.model_dump()
    if not isinstance(item, Mapping):
        raise TypeError(f"expected a proposal (a mapping), got {type(item).__name__}")
    if "proposal" in item:
        return Sample.model_validate(dict(item))
    return Proposal.model_validate(dict(item))


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = [field_problem(entry) for entry in error.errors()[:5]]
        more = error.error_count() - len(parts)
        return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return f"{type(error).__name__}: {error}"


def _limit_problem(proposal: Proposal, config: IntakeConfig) -> str | None:
    texts = {"question": proposal.question, "stated_answer": proposal.stated_answer or ""}
    for name, text in texts.items():
        if len(text) > config.max_question_chars:
            return f"{name} has {len(text)} characters (limit {config.max_question_chars})"
    if len(proposal.program) > config.max_program_chars:
        return f"program has {len(proposal.program)} characters (limit {config.max_program_chars})"
    for option in proposal.options:
        if len(option) > config.max_option_chars:
            return f"an option has {len(option)} characters (limit {config.max_option_chars})"
    for name in ("frame_indices", "referenced_instances"):
        items = getattr(proposal, name) or []
        if len(items) > config.max_list_items:
            return f"{name} has {len(items)} items (limit {config.max_list_items})"
    if any(isinstance(v, float) and not math.isfinite(v) for v in proposal.difficulty.values()):
        return "difficulty holds a NaN or infinite number; record finite settings only"
    return None


def malformed(
    item: Any,
    problem: str,
    config: IntakeConfig,
    iteration: int = 0,
    proposal: Proposal | None = None,
) -> Sample:
    """A rejected Sample standing in for an input that is not a usable proposal."""
    shown = _safe_repr(item, config.audit_chars)
    placeholder = _placeholder(item, proposal, config)
    digest = hashlib.sha256(_safe_repr(item, 100_000).encode("utf-8", "replace")).hexdigest()
    return Sample(
        sample_id=f"malformed-{digest[:12]}",
        proposal=placeholder,
        iteration=iteration,
        verdict="rejected",
        reason=RejectReason.MALFORMED.value,
        execution_error=f"malformed proposal: {problem}; got {shown}"[: 2 * config.audit_chars],
    )


def _placeholder(item: Any, proposal: Proposal | None, config: IntakeConfig) -> Proposal:
    """A valid Proposal with what could be read from the input, truncated, for audit."""
    if isinstance(item, Sample):
        item = item.proposal
    source: Mapping[str, Any] = {}
    if proposal is not None:
        source = proposal.model_dump()
    elif isinstance(item, BaseModel):
        source = dict(item.__dict__)
    elif isinstance(item, Mapping):
        source = item.get("proposal") if isinstance(item.get("proposal"), Mapping) else item
    cap = config.audit_chars

    def text(key: str) -> str:
        value = source.get(key)
        if isinstance(value, str) and value.strip():
            return value[:cap]
        return PLACEHOLDER

    answer_kind = source.get("answer_kind")
    return Proposal(
        scene_id=text("scene_id"),
        question_type=text("question_type"),
        question=text("question"),
        answer_kind=answer_kind if answer_kind in ("multiple_choice", "numeric") else "numeric",
        program=text("program"),
        proposer_id=text("proposer_id") if source.get("proposer_id") else "unknown",
    )


def _safe_repr(item: Any, limit: int) -> str:
    try:
        text = json.dumps(item, default=repr)[: limit + 1]
    except Exception:
        try:
            text = repr(item)[: limit + 1]
        except Exception:
            text = f"<unprintable {type(item).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."
