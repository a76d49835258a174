"""Fuzzing: malformed proposals (wrong types, missing fields, huge strings, NaN) become
rejections with reasons; the verifier never crashes and never drops a candidate."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.records import Proposal
from agents.tasks.demo_scene import demo_scene
from agents.verifier import RejectReason, Verifier
from tests.agents.verifier_helpers import proposal
from tools.sandbox import make_sandbox

REASONS = {r.value for r in RejectReason}
HUGE = "x" * 200_000
VALID = proposal().model_dump()
FIELDS = list(Proposal.model_fields)

junk = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.sampled_from([HUGE, "", "   ", "\x00", "A. ", float("nan"), -1, 10**30]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid proposal dict with fields replaced by junk, removed, or extra ones added."""
    data = dict(VALID)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            data.pop(name)
        else:
            data[name] = draw(junk)
    if draw(st.booleans()):
        data[draw(st.text(min_size=1, max_size=8))] = draw(junk)
    return data


candidates = st.lists(st.one_of(mutated(), junk, st.just(VALID)), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def verifier() -> Iterator[Verifier]:
    with make_sandbox("local", workers=2) as sandbox:
        yield Verifier(None, sandbox)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=candidates)
def test_malformed_proposals_are_rejected_never_crash(verifier: Verifier, batch: list[Any]) -> None:
    scene = demo_scene()
    report = verifier.verify(batch, {scene.id: scene})
    assert len(report.samples) == len(batch)
    for item, sample in zip(batch, report.samples, strict=True):
        assert sample.verdict in ("accepted", "rejected")
        if sample.verdict == "rejected":
            assert sample.reason in REASONS
        if not isinstance(item, dict) or any(name not in item for name in ("question", "program")):
            assert sample.reason == "malformed"
        assert len(sample.proposal.question) <= 100_000  # huge inputs are kept truncated
        sample.to_row()  # everything stored must serialise


def test_specific_malformations_say_what_was_wrong(verifier: Verifier) -> None:
    scene = demo_scene()
    nan_difficulty = dict(VALID, difficulty={"gap": math.nan})
    cases = [
        (dict(VALID, answer_kind="essay"), "answer_kind"),
        ({k: v for k, v in VALID.items() if k != "program"}, "field 'program': Field required"),
        (dict(VALID, question=HUGE), "question has 200000 characters"),
        (nan_difficulty, "NaN"),
        (dict(VALID, options=[f"{c}. x{c}" for c in "ABCDEFGHIJK"]), "option"),
        (dict(VALID, frame_indices="all"), "frame_indices"),
        (42, "expected a proposal"),
    ]
    report = verifier.verify([c for c, _ in cases], {scene.id: scene})
    for (_, expected), sample in zip(cases, report.samples, strict=True):
        assert sample.reason == "malformed"
        assert expected in (sample.execution_error or ""), sample.execution_error
