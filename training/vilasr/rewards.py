"""ViLaSR's rewards over whole multi-turn conversations, in TRL's reward signature.

- accuracy: VSI-Bench's score of the final turn's answer (letters exact, numbers MRA);
- format: every assistant turn is ``<think>...</think>`` then an action: a tool call in
  every turn but the last, an ``<answer>`` in the last only, and every call parses
  (valid JSON, a known tool, its required arguments);
- overall: ``0.5 * accuracy + 0.5 * format`` when accuracy > 0, else accuracy (ViLaSR gates
  the format reward on the outcome; ``gated=False`` gives the plain mean for comparison);
- reflection: 1 when some label was drawn again with a different box (logged, weight 0).

A completion may be a ``Transcript``'s messages, TRL's tool-loop messages (assistant turns
parsed into ``reasoning_content`` / ``content`` / ``tool_calls``), or a plain string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from agents.solver.tool_chat import parse_tool_calls
from training.rewards import score_answer

_THINK_THEN_CALLS = re.compile(
    r"^\s*<think>(?:(?!</?think>).)*</think>\s*(?:<tool_call>.*?</tool_call>\s*)+$", re.DOTALL
)
_THINK_THEN_ANSWER = re.compile(
    r"^\s*<think>(?:(?!</?think>).)*</think>\s*<answer>(?:(?!<answer>).)*</answer>\s*$",
    re.DOTALL,
)
REQUIRED_ARGUMENTS: dict[str, tuple[str, str]] = {
    "object_mapper": ("image_index", "objects"),
    "path_tracer": ("image_index", "paths"),
}
ITEM_KEYS: dict[str, tuple[str, ...]] = {
    "object_mapper": ("bbox_2d", "label"),
    "path_tracer": ("start_point_2d", "end_point_2d", "label"),
}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return ""


def assistant_turn_text(message: dict[str, Any]) -> str:
    """The raw text of an assistant turn, rebuilt when TRL parsed it into fields."""
    text = _text(message.get("content"))
    reasoning = message.get("reasoning_content")
    if reasoning is not None:
        text = f"<think>{reasoning}</think>\n{text}"
    for call in message.get("tool_calls") or []:
        function = call.get("function", call)
        arguments = function.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        text += f'\n<tool_call>\n{{"name": "{function.get("name")}", "arguments": {arguments}}}\n</tool_call>'
    return text


def turn_texts(completion: Any) -> list[str]:
    """Assistant turns of a completion, in order."""
    if isinstance(completion, str):
        return [completion]
    return [assistant_turn_text(m) for m in completion if m.get("role") == "assistant"]


def call_parses(call: dict[str, Any]) -> bool:
    name = call["name"]
    if name not in REQUIRED_ARGUMENTS:
        return False
    arguments = call["arguments"]
    if any(key not in arguments for key in REQUIRED_ARGUMENTS[name]):
        return False
    items = arguments[REQUIRED_ARGUMENTS[name][1]]
    if not isinstance(items, list) or not items:
        return False
    return all(isinstance(i, dict) and all(k in i for k in ITEM_KEYS[name]) for i in items)


def multi_turn_format(turns: Sequence[str]) -> float:
    """1.0 when every turn is think + action, only the last answers, and every call parses."""
    if not turns:
        return 0.0
    for position, text in enumerate(turns):
        last = position == len(turns) - 1
        if last:
            if not _THINK_THEN_ANSWER.match(text):
                return 0.0
            continue
        if not _THINK_THEN_CALLS.match(text) or "<answer>" in text:
            return 0.0
        blocks = text.count("<tool_call>")
        calls = parse_tool_calls(text)
        if len(calls) != blocks or not all(call_parses(c) for c in calls):
            return 0.0
    return 1.0


def reflected(turns: Sequence[str]) -> float:
    """1.0 when a label was boxed twice with different boxes anywhere in the conversation."""
    seen: dict[str, set[tuple[float, ...]]] = {}
    for text in turns:
        for call in parse_tool_calls(text):
            if call["name"] != "object_mapper":
                continue
            for item in call["arguments"].get("objects") or []:
                try:
                    label, box = str(item["label"]), tuple(float(v) for v in item["bbox_2d"])
                except (KeyError, TypeError, ValueError):
                    continue
                boxes = seen.setdefault(label, set())
                if boxes and box not in boxes:
                    return 1.0
                boxes.add(box)
    return 0.0


def answer_accuracy(turns: Sequence[str], ground_truth: str, answer_kind: str) -> float:
    if not turns or "<answer>" not in turns[-1]:
        return 0.0
    return score_answer(turns[-1], ground_truth, answer_kind)


def overall(accuracy: float, format_score: float, gated: bool = True) -> float:
    """ViLaSR's total: the format half counts only when the answer scores (gated)."""
    if gated and accuracy <= 0:
        return accuracy
    return 0.5 * accuracy + 0.5 * format_score


# -- TRL reward functions: (completions, **columns) -> one float per completion ---------------
def vilasr_accuracy_reward(
    completions: Sequence[Any], ground_truth: Sequence[str], answer_kind: Sequence[str], **_: Any
) -> list[float]:
    return [
        answer_accuracy(turn_texts(c), t, k)
        for c, t, k in zip(completions, ground_truth, answer_kind, strict=True)
    ]


def vilasr_format_reward(completions: Sequence[Any], **_: Any) -> list[float]:
    return [multi_turn_format(turn_texts(c)) for c in completions]


def vilasr_overall_reward(
    completions: Sequence[Any], ground_truth: Sequence[str], answer_kind: Sequence[str], **_: Any
) -> list[float]:
    """ViLaSR's gated total (the reward GRPO optimises)."""
    accuracy = vilasr_accuracy_reward(completions, ground_truth, answer_kind)
    formats = vilasr_format_reward(completions)
    return [overall(a, f) for a, f in zip(accuracy, formats, strict=True)]


def vilasr_ungated_reward(
    completions: Sequence[Any], ground_truth: Sequence[str], answer_kind: Sequence[str], **_: Any
) -> list[float]:
    """The ungated mean, for ablations: format pays even when the answer is wrong."""
    accuracy = vilasr_accuracy_reward(completions, ground_truth, answer_kind)
    formats = vilasr_format_reward(completions)
    return [overall(a, f, gated=False) for a, f in zip(accuracy, formats, strict=True)]


def vilasr_reflection_reward(completions: Sequence[Any], **_: Any) -> list[float]:
    """Reflection rate (logged with weight 0: ViLaSR reports it, it does not reward it)."""
    return [reflected(turn_texts(c)) for c in completions]


VILASR_REWARDS = {
    "vilasr_overall": vilasr_overall_reward,
    "vilasr_ungated": vilasr_ungated_reward,
    "vilasr_accuracy": vilasr_accuracy_reward,
    "vilasr_format": vilasr_format_reward,
    "vilasr_reflection": vilasr_reflection_reward,
}
