"""Why a candidate was rejected: one enum for execution and every verifier check.

The values are what `Sample.reason` holds for rejected samples, so reports, Parquet files
and dashboards count the same names. Execution's own reasons (`ExecutionReason`) are
members here under the same values; a test keeps the two in step.
"""

from __future__ import annotations

from enum import Enum


class RejectReason(str, Enum):
    """Every way a candidate can fail; grouped by the check that finds it."""

    # intake: the input is not a well-formed proposal
    MALFORMED = "malformed"
    # execution (first run by agents.execution, second run by the verifier)
    UNKNOWN_SCENE = "unknown_scene"
    PROGRAM_ERROR = "program_error"
    RESOURCE_LIMIT = "resource_limit"
    SANDBOX_ERROR = "sandbox_error"
    BAD_ANSWER = "bad_answer"
    NONDETERMINISTIC = "nondeterministic"
    # typed answer
    NON_FINITE = "non_finite"
    OUT_OF_BOUNDS = "out_of_bounds"
    INVALID_OPTIONS = "invalid_options"
    NOT_AN_OPTION = "not_an_option"
    NOT_A_PERMUTATION = "not_a_permutation"
    # agreement with the proposer's stated answer
    INCONSISTENT = "inconsistent"
    # ambiguity (programs raising geometry.Ambiguous land here too)
    AMBIGUOUS = "ambiguous"
    AMBIGUOUS_REFERENT = "ambiguous_referent"
    # level: measured difficulty outside the requested level's band
    WRONG_LEVEL = "wrong_level"
    # grounding
    NOT_GROUNDED = "not_grounded"
    # de-duplication
    DUPLICATE = "duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    # blind check
    ANSWERABLE_BLIND = "answerable_blind"
    # a check itself failed on this sample (a bug or data it cannot read): kept for audit
    CHECK_ERROR = "check_error"


#: The check that finds each reason (programs raising Ambiguous are the ambiguity check's
#: margins, applied inside the sandbox, so `ambiguous` counts there even from execution).
REASON_CHECK: dict[RejectReason, str] = {
    RejectReason.MALFORMED: "intake",
    RejectReason.UNKNOWN_SCENE: "execution",
    RejectReason.PROGRAM_ERROR: "execution",
    RejectReason.RESOURCE_LIMIT: "execution",
    RejectReason.SANDBOX_ERROR: "execution",
    RejectReason.BAD_ANSWER: "execution",
    RejectReason.NONDETERMINISTIC: "execution",
    RejectReason.NON_FINITE: "typed_answer",
    RejectReason.OUT_OF_BOUNDS: "typed_answer",
    RejectReason.INVALID_OPTIONS: "typed_answer",
    RejectReason.NOT_AN_OPTION: "typed_answer",
    RejectReason.NOT_A_PERMUTATION: "typed_answer",
    RejectReason.INCONSISTENT: "agreement",
    RejectReason.AMBIGUOUS: "ambiguity",
    RejectReason.AMBIGUOUS_REFERENT: "ambiguity",
    RejectReason.WRONG_LEVEL: "level",
    RejectReason.NOT_GROUNDED: "grounding",
    RejectReason.DUPLICATE: "dedup",
    RejectReason.NEAR_DUPLICATE: "dedup",
    RejectReason.ANSWERABLE_BLIND: "blind",
}


def check_of(reason: str | None) -> str:
    """The check a stored reason belongs to ('unknown' for check errors and foreign text)."""
    try:
        return REASON_CHECK.get(RejectReason(reason), "unknown")
    except ValueError:
        return "unknown"
