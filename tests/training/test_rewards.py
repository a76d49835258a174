"""GRPO rewards score like VSI-Bench; format counts only with a correct-ish answer."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.metrics import mean_relative_accuracy
from training import rewards
from training.rewards import (
    REWARDS,
    accuracy_reward,
    extract_answer,
    format_reward,
    gated_format_reward,
    resolve_rewards,
)


def as_messages(text: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": text}]


def test_accuracy_is_exact_match_on_letters_and_mra_on_numbers() -> None:
    completions = [
        "<answer>B</answer>",
        "<answer>b. table</answer>",
        "A",
        "<answer>2.5</answer>",
        "3.0 m",
    ]
    truths = ["B", "B", "B", "2.75", "3"]
    kinds = ["multiple_choice"] * 3 + ["numeric"] * 2
    scores = accuracy_reward(completions, ground_truth=truths, answer_kind=kinds)
    assert scores[:3] == [1.0, 1.0, 0.0]
    assert scores[3] == pytest.approx(mean_relative_accuracy(2.5, 2.75)) and 0 < scores[3] < 1
    assert scores[4] == 1.0  # untagged replies are parsed like VSI-Bench (first word)


def test_conversational_completions_are_read_too() -> None:
    scores = accuracy_reward(
        [as_messages("<think>x</think><answer>C</answer>")],
        ground_truth=["C"],
        answer_kind=["multiple_choice"],
    )
    assert scores == [1.0]
    assert extract_answer("<answer>A</answer> then <answer>D.</answer>") == "D"


def test_format_and_its_gate() -> None:
    completions = [
        "<think>the sofa is near</think> <answer>B</answer>",
        "<answer>A</answer>",
        "B",
        "<answer>B</answer> trailing words",
        "<answer>B</answer><answer>C</answer>",
    ]
    assert format_reward(completions) == [1.0, 1.0, 0.0, 0.0, 0.0]
    gated = gated_format_reward(
        completions, ground_truth=["B"] * 5, answer_kind=["multiple_choice"] * 5
    )
    assert gated == [1.0, 0.0, 0.0, 0.0, 0.0]  # the well-formed wrong answer gets no format credit


def test_a_new_reward_is_one_function_and_one_registry_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def brevity_reward(completions: list[Any], **kwargs: Any) -> list[float]:
        return [1.0 / (1 + len(rewards.completion_text(c))) for c in completions]

    monkeypatch.setitem(REWARDS, "brevity", brevity_reward)
    resolved = resolve_rewards(["accuracy", "brevity"])
    assert resolved == [accuracy_reward, brevity_reward]
    with pytest.raises(ValueError, match="unknown reward"):
        resolve_rewards(["nonsense"])
