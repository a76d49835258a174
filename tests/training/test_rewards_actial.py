"""The `actial` reward preset: 0.5 exact match + 0.5 think/answer format, neither gating the other."""

from __future__ import annotations

import pytest

from training.rewards import REWARDS, actial_reward, resolve_rewards, think_format_reward

KINDS = ["multiple_choice"] * 5
TRUTH = ["B"] * 5


def test_actial_scores_answer_and_format_independently() -> None:
    completions = [
        "<think>the sofa moved left in the image</think><answer>B</answer>",  # right, formatted
        "<think>hmm</think> <answer>A</answer>",  # wrong, formatted: format still counts
        "<answer>B</answer>",  # right, no reasoning: Actial's format needs <think>
        "B",  # right, no tags
        "<think>x</think><answer>B</answer> trailing",  # text after the answer breaks the format
    ]
    scores = actial_reward(completions, ground_truth=TRUTH, answer_kind=KINDS)
    assert scores == pytest.approx([1.0, 0.5, 0.5, 0.5, 0.5])


def test_think_format_needs_exactly_one_think_then_one_answer() -> None:
    completions = [
        "<think>a</think><answer>B</answer>",
        "<think>a</think><think>b</think><answer>B</answer>",
        "<answer>B</answer><think>a</think>",
        "  <think>\nmulti\nline\n</think>\n<answer>B</answer>\n",
    ]
    assert think_format_reward(completions) == [1.0, 0.0, 0.0, 1.0]


def test_the_preset_is_one_registry_name() -> None:
    assert resolve_rewards(["actial"]) == [REWARDS["actial"]]
