"""Check 2, typed answer: the answer has the type, range and options its task implies.

Numbers are finite and inside physical bounds, judged in SI units after converting from
the unit the question asks in (VSI-Bench sizes are centimetres): sizes 1 cm to 10 m,
distances 0 to 30 m, areas 1 to 500 m^2, counts 1 to 50 (whole numbers). Multiple choice
needs at least two distinct options and an answer that is one of them (numeric-as-choice
options must all be distinct numbers, the chosen one inside the bounds). Ordering answers
(appearance order) are permutations of the objects the question names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agents.records import Sample
from agents.verifier.base import CheckContext, Finding, SampleCheck
from agents.verifier.reasons import RejectReason
from agents.verifier.text import mentioned, normalise, option_texts, parse_number

#: question_type -> (bound name, question units per SI unit).
TASK_QUANTITIES: dict[str, tuple[str, float]] = {
    "object_size_estimation": ("size_m", 100.0),  # asked in centimetres
    "object_abs_distance": ("distance_m", 1.0),
    "room_size_estimation": ("area_m2", 1.0),
    "object_counting": ("count", 1.0),
}


@dataclass
class TypedAnswerConfig:
    """Physical bounds (SI units) and which tasks have which quantity."""

    size_m: tuple[float, float] = field(
        default=(0.01, 10.0), metadata={"help": "Object sizes, metres (1 cm to 10 m)."}
    )
    distance_m: tuple[float, float] = field(
        default=(0.0, 30.0), metadata={"help": "Distances between objects, metres."}
    )
    area_m2: tuple[float, float] = field(
        default=(1.0, 500.0), metadata={"help": "Room floor areas, square metres."}
    )
    count: tuple[float, float] = field(
        default=(1.0, 50.0), metadata={"help": "Object counts (whole numbers)."}
    )
    quantities: dict[str, tuple[str, float]] = field(
        default_factory=lambda: dict(TASK_QUANTITIES),
        metadata={
            "help": "question_type -> (bound name, question units per SI unit); e.g. sizes "
            "asked in centimetres are ('size_m', 100.0)."
        },
    )
    ordering_tasks: list[str] = field(
        default_factory=lambda: ["obj_appearance_order"],
        metadata={"help": "Tasks whose options are orderings ('a, b, c') of named objects."},
    )
    min_options: int = field(default=2, metadata={"help": "Fewest options a choice may have."})


class TypedAnswerCheck(SampleCheck):
    """Rejects answers of the wrong type, out of physical range, or with bad options."""

    name = "typed_answer"
    config_class = TypedAnswerConfig
    config: TypedAnswerConfig

    def check_one(self, sample: Sample, ctx: CheckContext) -> Finding | None:
        proposal = sample.proposal
        truth = sample.ground_truth
        if truth is None:
            return Finding.reject(RejectReason.NOT_AN_OPTION, "the sample has no ground truth")
        quantity = self.config.quantities.get(proposal.question_type)
        if proposal.answer_kind == "numeric":
            return self._number(parse_number(truth), quantity, f"answer {truth!r}")
        texts = option_texts(proposal)
        if len(texts) < self.config.min_options:
            return Finding.reject(
                RejectReason.INVALID_OPTIONS,
                f"{len(texts)} option(s); a choice needs at least {self.config.min_options}",
            )
        normalised = [normalise(t) for t in texts]
        if len(set(normalised)) != len(normalised) or not all(normalised):
            return Finding.reject(
                RejectReason.INVALID_OPTIONS, f"options are empty or repeat: {proposal.options}"
            )
        if truth not in proposal.option_letters:
            return Finding.reject(
                RejectReason.NOT_AN_OPTION,
                f"answer {truth!r} is none of the letters {proposal.option_letters}",
            )
        chosen = texts[proposal.option_letters.index(truth)]
        if quantity is not None:
            return self._numeric_choice(texts, chosen, quantity)
        if proposal.question_type in self.config.ordering_tasks:
            return self._ordering(proposal.question, texts, chosen)
        return None

    def _number(
        self, value: float | None, quantity: tuple[str, float] | None, what: str
    ) -> Finding | None:
        if value is None or not math.isfinite(value):
            return Finding.reject(RejectReason.NON_FINITE, f"{what} is not a finite number")
        if quantity is None:
            return None
        bound_name, per_si = quantity
        low, high = getattr(self.config, bound_name)
        si_value = value / per_si
        if not low <= si_value <= high:
            return Finding.reject(
                RejectReason.OUT_OF_BOUNDS,
                f"{what} is {si_value:g} in SI units, outside {bound_name} [{low:g}, {high:g}]",
            )
        if bound_name == "count" and not float(value).is_integer():
            return Finding.reject(RejectReason.OUT_OF_BOUNDS, f"{what} is not a whole count")
        return None

    def _numeric_choice(
        self, texts: list[str], chosen: str, quantity: tuple[str, float]
    ) -> Finding | None:
        values = [parse_number(t) for t in texts]
        if any(v is None or not math.isfinite(v) for v in values):
            return Finding.reject(
                RejectReason.INVALID_OPTIONS, f"options {texts} are not all numbers"
            )
        if len(set(values)) != len(values):
            return Finding.reject(RejectReason.INVALID_OPTIONS, f"options {texts} repeat a number")
        return self._number(parse_number(chosen), quantity, f"chosen option {chosen!r}")

    def _ordering(self, question: str, texts: list[str], chosen: str) -> Finding | None:
        named = sorted(_items(chosen))
        if len(set(named)) != len(named) or len(named) < 2:
            return Finding.reject(
                RejectReason.NOT_A_PERMUTATION, f"answer {chosen!r} repeats an object or has < 2"
            )
        in_question = set(mentioned(question, named))
        missing = [n for n in named if n not in in_question]
        if missing:
            return Finding.reject(
                RejectReason.NOT_A_PERMUTATION,
                f"answer {chosen!r} orders {missing}, which the question does not name",
            )
        for text in texts:
            if sorted(_items(text)) != named:
                return Finding.reject(
                    RejectReason.NOT_A_PERMUTATION,
                    f"option {text!r} is not a permutation of {named}",
                )
        return None


def _items(ordering: str) -> list[str]:
    return [normalise(part) for part in ordering.split(",") if normalise(part)]
