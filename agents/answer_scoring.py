"""How one answer is read and scored, by VSI-Bench's rules: the lowest place that knows them.

The solver's signals, GRPO's rewards, the held-out evaluation and the reports all score
answers the same way, so the per-answer rules live here, in the `agents` layer beside the
records they read; `evaluation.metrics` (benchmark aggregation) and `training.rewards`
import them from here. Reference: vision-x-nyu/thinking-in-space,
`lmms_eval/tasks/vsibench/utils.py` (`fuzzy_matching`, `exact_match`, `to_float`,
`mean_relative_accuracy`) and current lmms-eval's `extract_number`.
"""

from __future__ import annotations

import math
import re

import numpy as np

#: VSI-Bench builds these as np.linspace(.5, .95, int((.95 - .5) / .05 + 2)); that count
#: evaluates to int(10.999999999999998) == 10, so: 0.50, 0.55, ..., 0.95.
MRA_THRESHOLDS: np.ndarray = np.linspace(0.5, 0.95, 10)
#: The right-hand side VSI-Bench compares against, `1 - thresholds`, computed the same way
#: (so e.g. the 0.55 tolerance is 0.44999999999999996, the 0.95 one 0.050000000000000044).
MRA_TOLERANCES: np.ndarray = 1 - MRA_THRESHOLDS

_NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
}  # fmt: skip
_DIGITS = re.compile(r"-?\d+(?:\.\d+)?")
_WORD = re.compile(r"[a-z]+")


def parse_reply(reply: str | None) -> str:
    """The harness strips every reply (`results[0].strip()` in lmms-eval's task.py), then
    VSI-Bench's `fuzzy_matching` keeps the text before the first space, trailing periods
    stripped, surrounding whitespace stripped. Splits on ' ' only, as VSI-Bench does."""
    if reply is None:
        return ""
    return reply.strip().split(" ")[0].rstrip(".").strip()


def _number_words_value(words: list[str]) -> float:
    total, current = 0, 0
    for word in words:
        value = _NUMBER_WORDS[word]
        if value == 100:
            current = max(current, 1) * 100
        elif value == 1000:
            total += max(current, 1) * 1000
            current = 0
        else:
            current += value
    return float(total + current)


def extract_number(reply: str | None) -> float | None:
    """Current lmms-eval's `extract_number`: the first number anywhere in the reply, digits
    (`"15cm"` -> 15, `"**12.20**"` -> 12.2) or a run of number words (`"twenty-one"` -> 21),
    whichever starts first; None when there is none."""
    if reply is None:
        return None
    text = reply.strip().lower()
    if not text:
        return None
    digits = _DIGITS.search(text)
    words: list[str] = []
    words_start: int | None = None
    for match in _WORD.finditer(text):
        word = match.group(0)
        if words_start is None:
            if word in _NUMBER_WORDS:
                words_start, words = match.start(), [word]
        elif word in _NUMBER_WORDS:
            words.append(word)
        elif word != "and":
            break
    if digits is not None and (words_start is None or digits.start() < words_start):
        return float(digits.group(0))
    return None if words_start is None else _number_words_value(words)


def exact_match(prediction: str, target: str) -> float:
    """1.0 when the parsed reply equals the ground truth ignoring case, else 0.0."""
    return 1.0 if prediction.lower() == target.lower() else 0.0


def parse_number(text: str) -> float | None:
    """VSI-Bench's `to_float`: Python's float(), None when it fails."""
    try:
        return float(text)
    except ValueError:
        return None


def mean_relative_accuracy(prediction: float | None, target: float) -> float:
    """Fraction of thresholds theta in 0.50..0.95 with |pred - gt| / gt <= 1 - theta.

    A missing prediction scores 0, as VSI-Bench's TypeError fallback does. A ground truth
    that is not positive and finite makes the relative error meaningless, so it is refused.
    """
    if not (math.isfinite(target) and target > 0):
        raise ValueError(f"mean relative accuracy needs a positive ground truth, got {target!r}")
    if prediction is None:
        return 0.0
    relative_error = abs(prediction - target) / target
    return float((relative_error <= MRA_TOLERANCES).mean())


_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def extract_answer(text: str) -> str:
    """The answer VSI-Bench would score: inside the last <answer> tags if any, parsed."""
    tagged = _ANSWER.findall(text)
    return parse_reply((tagged[-1] if tagged else text).strip())


def score_answer(text: str, ground_truth: str, answer_kind: str) -> float:
    """Exact match on the option letter, or mean relative accuracy on the number."""
    answer = extract_answer(text)
    if answer_kind == "multiple_choice":
        return exact_match(answer, str(ground_truth).strip())
    target = parse_number(str(ground_truth))
    if target is None:
        raise ValueError(f"numeric ground truth {ground_truth!r} is not a number")
    if not (math.isfinite(target) and target > 0):  # MRA is undefined; only exact counts
        return 1.0 if parse_number(answer) == target else 0.0
    return mean_relative_accuracy(parse_number(answer), target)
