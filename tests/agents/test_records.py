from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents.records import Proposal, Sample


def make_proposal(**update) -> Proposal:
    fields = dict(
        scene_id="proc_000000",
        question_type="object_rel_distance",
        question="Which of these objects is the closest to the sofa?",
        options=["A. chair", "B. lamp", "C. tv"],
        answer_kind="multiple_choice",
        program="def solve(scene):\n    return 'A'\n",
        level=2,
        difficulty={"gap_m": 0.4},
        referenced_instances=[3, 4, 5],
    )
    fields.update(update)
    return Proposal(**fields)


def test_sample_row_round_trip() -> None:
    sample = Sample.from_proposal(make_proposal(), iteration=2).model_copy(
        update={
            "ground_truth": "A",
            "executed_value": "A",
            "verdict": "accepted",
            "confidence": 0.4,
            "letter_probs": {"A": 0.4, "B": 0.3, "C": 0.3},
        }
    )
    assert Sample.from_row(sample.to_row()) == sample


def test_fingerprint_ignores_case_and_spacing() -> None:
    a = make_proposal(question="Which of these objects is  the closest to the sofa?")
    b = make_proposal(question="which of these objects is the closest to the SOFA?")
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != make_proposal(scene_id="other").fingerprint()


def test_options_must_be_lettered_in_order() -> None:
    with pytest.raises(ValidationError, match=r"must start with 'B\. '"):
        make_proposal(options=["A. chair", "C. lamp"])


def test_too_many_options_is_a_validation_error() -> None:
    options = [f"{letter}. x{letter}" for letter in "ABCDEFGHIJ"] + ["K. extra"]
    with pytest.raises(ValidationError, match="at most 10 options"):
        make_proposal(options=options)
