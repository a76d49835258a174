"""Check 3, agreement: a proposer's stated answer must match what its program computed.

LLM proposers state an answer besides writing the program; when the two disagree, one of
them is wrong and the sample cannot be trusted (`inconsistent`). Multiple-choice answers
may be stated as a letter ('B', 'B.', '(B)', 'B. chair') or as the option's text; numbers
agree within a relative tolerance, plus half a unit of the answer's rounding.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from agents.records import Proposal, Sample
from agents.tasks import TASKS
from agents.verifier.base import CheckContext, Finding, SampleCheck
from agents.verifier.reasons import RejectReason
from agents.verifier.text import normalise, option_texts, parse_number

_LETTER = re.compile(r"^\(?([A-J])\)?(?:[.:)]\s*(.*))?$")


@dataclass
class AgreementConfig:
    """How close a stated number must be to the executed one."""

    rel_tol: float = field(
        default=0.05, metadata={"help": "Relative tolerance for numeric answers (0.05 = 5%)."}
    )
    abs_tol: float = field(
        default=0.0,
        metadata={"help": "Absolute tolerance added to half a unit of the answer's rounding."},
    )


class AgreementCheck(SampleCheck):
    """Rejects samples whose proposer stated a different answer than its program returned."""

    name = "agreement"
    config_class = AgreementConfig
    config: AgreementConfig

    def check_one(self, sample: Sample, ctx: CheckContext) -> Finding | None:
        stated = sample.proposal.stated_answer
        if stated is None or sample.ground_truth is None:
            return None
        proposal = sample.proposal
        if proposal.answer_kind == "multiple_choice":
            letter = stated_letter(proposal, stated)
            if letter == sample.ground_truth:
                return None
            said = f"option {letter}" if letter else "no option"
            return Finding.reject(
                RejectReason.INCONSISTENT,
                f"stated answer {stated!r} ({said}) but the program chose {sample.ground_truth}",
            )
        value, truth = parse_number(stated), parse_number(sample.ground_truth)
        if value is None or truth is None or not math.isfinite(value):
            return Finding.reject(
                RejectReason.INCONSISTENT,
                f"stated answer {stated!r} is not a number; the program computed "
                f"{sample.ground_truth}",
            )
        tolerance = self.config.rel_tol * abs(truth) + self.config.abs_tol
        tolerance += _half_unit(proposal.question_type)
        if abs(value - truth) <= tolerance:
            return None
        return Finding.reject(
            RejectReason.INCONSISTENT,
            f"stated answer {value:g} but the program computed {sample.ground_truth} "
            f"(tolerance {tolerance:.3g})",
        )


def stated_letter(proposal: Proposal, stated: str) -> str | None:
    """The option a stated answer names: by letter, 'B. text', or the option's text."""
    text = stated.strip()
    match = _LETTER.match(text)
    letters = proposal.option_letters
    if match and match.group(1) in letters:
        letter = match.group(1)
        rest = match.group(2)
        own_text = option_texts(proposal)[letters.index(letter)]
        if not rest or normalise(rest) == normalise(own_text):
            return letter
        return None  # a letter with another option's text: contradictory
    wanted = normalise(text)
    for letter, option in zip(letters, option_texts(proposal), strict=True):
        if normalise(option) == wanted:
            return letter
    return None


def _half_unit(question_type: str) -> float:
    task = TASKS.get(question_type)
    decimals = task.answer_decimals if task is not None else None
    return 0.0 if decimals is None else 0.5 * 10.0 ** (-decimals)
