"""ViLaSR's rewards: multi-turn format, gated vs ungated totals, reflection, TRL's parsed turns."""

from __future__ import annotations

import json

import pytest

from evaluation.metrics import mean_relative_accuracy
from training.vilasr.rewards import (
    multi_turn_format,
    overall,
    reflected,
    turn_texts,
    vilasr_accuracy_reward,
    vilasr_format_reward,
    vilasr_overall_reward,
    vilasr_reflection_reward,
    vilasr_ungated_reward,
)


def call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


def box(label: str, bbox: list[int], index: int = 1) -> str:
    return call("object_mapper", image_index=index, objects=[{"bbox_2d": bbox, "label": label}])


def conversation(*turns: str) -> list[dict]:
    """Assistant turns with tool turns between them, as a transcript stores them."""
    messages: list[dict] = []
    for k, text in enumerate(turns):
        messages.append({"role": "assistant", "content": text})
        if k < len(turns) - 1:
            messages.append(
                {
                    "role": "tool",
                    "name": "object_mapper",
                    "content": [{"type": "text", "text": "ok"}],
                }
            )
    return messages


GOOD = conversation(
    "<think>box the chair</think>\n" + box("chair", [1, 2, 30, 40]),
    "<think>the chair is left</think>\n<answer>B</answer>",
)


@pytest.mark.parametrize(
    ("accuracy", "format_score", "gated", "ungated"),
    [
        (1.0, 1.0, 1.0, 1.0),
        (1.0, 0.0, 0.5, 0.5),
        (0.0, 1.0, 0.0, 0.5),  # the gate: format pays nothing without a right answer
        (0.0, 0.0, 0.0, 0.0),
        (0.6, 1.0, 0.8, 0.8),  # numeric MRA counts as accuracy > 0
        (0.3, 0.0, 0.15, 0.15),
    ],
)
def test_gated_and_ungated_totals(
    accuracy: float, format_score: float, gated: float, ungated: float
) -> None:
    assert overall(accuracy, format_score) == pytest.approx(gated)
    assert overall(accuracy, format_score, gated=False) == pytest.approx(ungated)


def test_reward_functions_on_whole_conversations() -> None:
    wrong = conversation(
        "<think>box the chair</think>\n" + box("chair", [1, 2, 30, 40]),
        "<think>guess</think>\n<answer>A</answer>",
    )
    columns = {"ground_truth": ["B", "B"], "answer_kind": ["multiple_choice"] * 2}
    assert vilasr_accuracy_reward([GOOD, wrong], **columns) == [1.0, 0.0]
    assert vilasr_format_reward([GOOD, wrong]) == [1.0, 1.0]
    assert vilasr_overall_reward([GOOD, wrong], **columns) == [1.0, 0.0]
    assert vilasr_ungated_reward([GOOD, wrong], **columns) == [1.0, 0.5]


def test_numeric_answers_score_by_mra() -> None:
    turns = conversation(
        "<think>measure</think>\n" + box("bed", [0, 0, 9, 9]),
        "<think>x</think><answer>2.2</answer>",
    )
    [accuracy] = vilasr_accuracy_reward([turns], ground_truth=["2.0"], answer_kind=["numeric"])
    assert 0.5 < accuracy < 1.0
    assert accuracy == mean_relative_accuracy(2.2, 2.0)  # VSI-Bench's own metric


@pytest.mark.parametrize(
    "turns",
    [
        ["<answer>B</answer>"],  # no think
        [
            "<think>a</think>\n" + box("chair", [1, 2, 3, 4]),
            "<think>b</think>\nB",
        ],  # last has no answer
        [
            "<think>a</think>\n<answer>B</answer>",
            "<think>b</think>\n<answer>B</answer>",
        ],  # early answer
        ["<think>a</think>\nI will draw", "<think>b</think>\n<answer>B</answer>"],  # no action
        [
            "<think>a</think>\n<tool_call>\n{bad json}\n</tool_call>",
            "<think>b</think><answer>B</answer>",
        ],
        [
            "<think>a</think>\n" + call("object_mapper", image_index=1, objects=[{"label": "x"}]),
            "<think>b</think><answer>B</answer>",
        ],
        ["<think>a</think>\n" + call("paint", image_index=1), "<think>b</think><answer>B</answer>"],
    ],
)
def test_format_failures(turns: list[str]) -> None:
    assert multi_turn_format(turns) == 0.0


def test_reflection_is_the_same_label_with_a_different_box() -> None:
    same = [
        "<think>a</think>" + box("chair", [1, 2, 3, 4]),
        "<think>b</think>" + box("chair", [1, 2, 3, 4], 2),
    ]
    moved = [
        "<think>a</think>" + box("chair", [1, 2, 3, 4]),
        "<think>b</think>" + box("chair", [5, 2, 9, 4], 2),
    ]
    other = [
        "<think>a</think>" + box("chair", [1, 2, 3, 4]),
        "<think>b</think>" + box("table", [5, 2, 9, 4]),
    ]
    assert (reflected(same), reflected(moved), reflected(other)) == (0.0, 1.0, 0.0)
    assert vilasr_reflection_reward(
        [conversation(*moved, "<think>c</think><answer>A</answer>")]
    ) == [1.0]


def test_trl_parsed_turns_are_rebuilt_before_scoring() -> None:
    """TRL's tool loop splits a turn into reasoning_content / tool_calls / content."""
    parsed = [
        {
            "role": "assistant",
            "reasoning_content": "box the chair",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {
                        "name": "object_mapper",
                        "arguments": {
                            "image_index": 1,
                            "objects": [{"bbox_2d": [1, 2, 3, 4], "label": "chair"}],
                        },
                    },
                }
            ],
            "content": "",
        },
        {"role": "tool", "name": "object_mapper", "content": [{"type": "text", "text": "ok"}]},
        {"role": "assistant", "reasoning_content": "left", "content": "<answer>B</answer>"},
    ]
    assert len(turn_texts(parsed)) == 2
    assert vilasr_format_reward([parsed]) == [1.0]
    assert vilasr_overall_reward([parsed], ground_truth=["B"], answer_kind=["multiple_choice"]) == [
        1.0
    ]
