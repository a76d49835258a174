"""Execution: proposals through the real sandbox into Samples with VSI-Bench ground truths,
and every failure rejected with a reason."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from agents.execution import BadAnswer, ExecutionReason, execute, ground_truth, sample_from_result
from agents.records import Proposal
from agents.tasks.demo_scene import demo_scene
from scenes.schema import Scene
from tools.sandbox import ErrorKind, ExecutionResult, make_sandbox


def _proposal(
    program: str, *, question_type: str = "object_counting", options: list[str] | None = None
) -> Proposal:
    return Proposal(
        scene_id="demo-room",
        question_type=question_type,
        question=f"q {program[-30:]} {options}",
        options=options or [],
        answer_kind="multiple_choice" if options else "numeric",
        program=program,
    )


@pytest.fixture(scope="module")
def scene() -> Scene:
    return demo_scene()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    with make_sandbox("local", workers=2) as runner:
        yield runner


CHOICE = ["A. bed", "B. tv", "C. chair"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("B", "B"), ("tv", "B"), (" TV ", "B"), ("chair", "C")],
)
def test_multiple_choice_accepts_letters_and_option_texts(value: str, expected: str) -> None:
    assert ground_truth(_proposal("x", options=CHOICE), value) == expected


def test_ordering_answers_may_be_lists() -> None:
    proposal = _proposal(
        "x", question_type="obj_appearance_order", options=["A. bed, tv", "B. tv, bed"]
    )
    assert ground_truth(proposal, ["tv", "bed"]) == "B"


@pytest.mark.parametrize(
    ("question_type", "value", "expected"),
    [
        ("object_counting", 3, "3"),
        ("object_size_estimation", 87.6, "88"),
        ("object_abs_distance", 1.26, "1.3"),
        ("room_size_estimation", 30.0, "30.0"),
        ("some_llm_task", 2.0, "2"),
        ("some_llm_task", 2.345, "2.35"),
    ],
)
def test_numbers_are_formatted_as_vsibench_does(
    question_type: str, value: float, expected: str
) -> None:
    assert ground_truth(_proposal("x", question_type=question_type), value) == expected


@pytest.mark.parametrize("value", [True, "3", None, math.nan, math.inf, [1]])
def test_numeric_questions_need_finite_numbers(value: object) -> None:
    with pytest.raises(BadAnswer, match="finite number"):
        ground_truth(_proposal("x"), value)


def test_answers_outside_the_options_are_bad() -> None:
    with pytest.raises(BadAnswer, match="none of"):
        ground_truth(_proposal("x", options=CHOICE), "sofa")
    with pytest.raises(BadAnswer):
        ground_truth(_proposal("x", options=CHOICE), "D")


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (ErrorKind.AMBIGUOUS, ExecutionReason.AMBIGUOUS),
        (ErrorKind.SYNTAX, ExecutionReason.PROGRAM_ERROR),
        (ErrorKind.TIMEOUT, ExecutionReason.RESOURCE_LIMIT),
        (ErrorKind.NON_JSON, ExecutionReason.BAD_ANSWER),
        (ErrorKind.SANDBOX_ERROR, ExecutionReason.SANDBOX_ERROR),
    ],
)
def test_error_kinds_map_to_reasons(kind: ErrorKind, reason: ExecutionReason) -> None:
    result = ExecutionResult(error_kind=kind, error_message="boom")
    sample = sample_from_result(_proposal("x"), result)
    assert sample.verdict == "rejected" and sample.reason == reason.value
    assert "boom" in sample.execution_error


def test_execute_runs_programs_in_the_sandbox(sandbox: object, scene: Scene) -> None:
    head = "import geometry as g\n"
    proposals = [
        _proposal(head + "def solve(scene):\n    return scene.count('chair')\n"),
        _proposal(head + "def solve(scene):\n    return 'tv'\n", options=CHOICE),
        _proposal(head + "def solve(scene):\n    raise g.Ambiguous('too close')\n"),
        _proposal(head + "def solve(scene):\n    return 1 / 0\n"),
        _proposal(head + "def solve(scene):\n    return 'sofa'\n", options=CHOICE),
        _proposal(head + "def solve(scene:\n"),
        _proposal(head + "def solve(scene):\n    return 2\n").model_copy(
            update={"scene_id": "elsewhere"}
        ),
    ]
    progress: list[int] = []
    samples = execute(proposals, {scene.id: scene}, sandbox, on_progress=progress.append)
    assert [s.proposal for s in samples] == proposals
    assert sum(progress) == len(proposals)
    assert [(s.verdict, s.ground_truth) for s in samples[:2]] == [
        ("pending", "3"),
        ("pending", "B"),
    ]
    assert samples[0].executed_value == 3
    reasons = [s.reason for s in samples[2:]]
    assert reasons == ["ambiguous", "program_error", "bad_answer", "program_error", "unknown_scene"]
    assert "too close" in samples[2].execution_error
    assert all(s.ground_truth is None for s in samples[2:])
