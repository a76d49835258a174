"""Verifiable rewards for GRPO, with VSI-Bench's own scoring.

A reward is a function `(completions, **columns) -> list[float]` in TRL's signature: it
gets the completions and every dataset column (`ground_truth`, `answer_kind`, ...) as
lists, one entry per completion. To add one, write the function and add one line to
`REWARDS`; then name it in `GRPOSettings.rewards`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agents.answer_scoring import extract_answer as extract_answer
from agents.answer_scoring import score_answer

RewardFunction = Callable[..., list[float]]

#: Optional reasoning in <think> tags, then exactly one answer in <answer> tags, nothing else.
_FORMAT = re.compile(
    r"^\s*(?:<think>.*?</think>\s*)?<answer>(?:(?!<answer>).)*?</answer>\s*$", re.DOTALL
)
#: Actial's format: reasoning in <think> tags, then one answer in <answer> tags (both required).
_THINK_FORMAT = re.compile(
    r"^\s*<think>(?:(?!<think>).)*?</think>\s*<answer>(?:(?!<answer>).)*?</answer>\s*$",
    re.DOTALL,
)


def completion_text(completion: Any) -> str:
    """The generated text of a completion: a string, or TRL's conversational message list."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "")
        if isinstance(content, list):
            return "".join(part.get("text") or "" for part in content if part.get("type") == "text")
        return str(content)
    return ""


def accuracy_reward(
    completions: Sequence[Any],
    ground_truth: Sequence[str],
    answer_kind: Sequence[str],
    **kwargs: Any,
) -> list[float]:
    """VSI-Bench's score of each completion's answer (letters: 0/1; numbers: MRA in [0, 1])."""
    return [
        score_answer(completion_text(completion), truth, kind)
        for completion, truth, kind in zip(completions, ground_truth, answer_kind, strict=True)
    ]


def format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1 when the completion is (optional <think>...</think>) <answer>...</answer>, else 0."""
    return [1.0 if _FORMAT.match(completion_text(c)) else 0.0 for c in completions]


def gated_format_reward(
    completions: Sequence[Any],
    ground_truth: Sequence[str],
    answer_kind: Sequence[str],
    **kwargs: Any,
) -> list[float]:
    """The format reward, counted only when the answer scores above zero (as ViLaSR does)."""
    accuracy = accuracy_reward(completions, ground_truth, answer_kind)
    formatted = format_reward(completions)
    return [f if a > 0 else 0.0 for a, f in zip(accuracy, formatted, strict=True)]


def think_format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1 when the completion is <think>...</think><answer>...</answer> (reasoning required)."""
    return [1.0 if _THINK_FORMAT.match(completion_text(c)) else 0.0 for c in completions]


def actial_reward(
    completions: Sequence[Any],
    ground_truth: Sequence[str],
    answer_kind: Sequence[str],
    **kwargs: Any,
) -> list[float]:
    """Actial's reward: 0.5 x exact answer + 0.5 x think/answer format, the two not gated."""
    accuracy = accuracy_reward(completions, ground_truth, answer_kind)
    formatted = think_format_reward(completions)
    return [0.5 * a + 0.5 * f for a, f in zip(accuracy, formatted, strict=True)]


REWARDS: dict[str, RewardFunction] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
    "gated_format": gated_format_reward,
    "think_format": think_format_reward,
    "actial": actial_reward,
}


def resolve_rewards(names: Sequence[str]) -> list[RewardFunction]:
    """Reward functions by name, with the known names in the error."""
    unknown = [name for name in names if name not in REWARDS]
    if unknown:
        raise ValueError(
            f"unknown reward(s) {unknown}; known: {sorted(REWARDS)}. Add a function to "
            "training.rewards.REWARDS to define a new one"
        )
    if not names:
        raise ValueError(
            "GRPO needs at least one reward; e.g. rewards=['accuracy', 'gated_format']"
        )
    return [REWARDS[name] for name in names]
