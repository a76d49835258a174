"""Reflective rejection sampling's acceptance rule (the sampling itself runs in test_stages)."""

from __future__ import annotations

import json

import pytest

from agents.solver.transcript import Transcript
from training.vilasr.rrs import NUMERIC_CORRECT_MRA, RRSSettings, rejection_reason


def box_turn(bbox: list[int]) -> str:
    call = {
        "name": "object_mapper",
        "arguments": {"image_index": 1, "objects": [{"bbox_2d": bbox, "label": "sofa"}]},
    }
    return f"<think>box</think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>"


def transcript(
    answer: str, truth: str, kind: str, boxes: list[list[int]], failures: int = 0
) -> Transcript:
    messages = []
    for bbox in boxes:
        messages.append({"role": "assistant", "content": box_turn(bbox)})
        messages.append(
            {"role": "tool", "name": "object_mapper", "content": [{"type": "text", "text": "ok"}]}
        )
    messages.append(
        {"role": "assistant", "content": f"<think>so</think>\n<answer>{answer}</answer>"}
    )
    return Transcript(
        question="q",
        answer_kind=kind,
        ground_truth=truth,
        messages=messages,
        tool_calls=len(boxes),
        tool_failures=failures,
    )


REFLECTS = [[1, 1, 9, 9], [3, 1, 12, 9]]


def test_correct_reflective_trajectories_are_kept() -> None:
    assert (
        rejection_reason(transcript("B", "B", "multiple_choice", REFLECTS), RRSSettings()) is None
    )


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (transcript("A", "B", "multiple_choice", REFLECTS), "incorrect"),
        (transcript("B", "B", "multiple_choice", [[1, 1, 9, 9], [1, 1, 9, 9]]), "no_reflection"),
        (transcript("B", "B", "multiple_choice", REFLECTS, failures=1), "drawing_failed"),
        (transcript("B", "B", "multiple_choice", []), "bad_format"),  # one turn, no drawing
    ],
)
def test_rejections(case: Transcript, reason: str) -> None:
    if reason == "bad_format":
        case = case.model_copy(
            update={"messages": [{"role": "assistant", "content": "<answer>B</answer>"}]}
        )
    assert rejection_reason(case, RRSSettings()) == reason


def test_numeric_answers_need_mra_of_at_least_the_threshold() -> None:
    assert NUMERIC_CORRECT_MRA == 0.7
    close = transcript("2.3", "2.0", "numeric", REFLECTS)  # 15% off: MRA 0.7
    far = transcript("2.5", "2.0", "numeric", REFLECTS)  # 25% off: MRA 0.5
    assert rejection_reason(close, RRSSettings()) is None
    assert rejection_reason(far, RRSSettings()) == "incorrect"
    assert rejection_reason(far, RRSSettings(numeric_threshold=0.5)) is None
    assert rejection_reason(close, RRSSettings(numeric_threshold=1.0)) == "incorrect"
    with pytest.raises(ValueError, match="numeric_threshold"):
        RRSSettings(numeric_threshold=0.0)
