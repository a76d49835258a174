"""Text helpers the checks share: normalising, option texts, numbers, named categories."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from agents.records import Proposal, Sample, option_text

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*")


def normalise(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: how texts are compared."""
    return " ".join(str(text).lower().split()).strip(" .?!")


def option_texts(proposal: Proposal) -> list[str]:
    return [option_text(o) for o in proposal.options]


def answer_text(sample: Sample) -> str | None:
    """The answer as text: the chosen option's text, or the number string."""
    truth = sample.ground_truth
    proposal = sample.proposal
    if truth is None or proposal.answer_kind != "multiple_choice":
        return truth
    letters = proposal.option_letters
    return option_texts(proposal)[letters.index(truth)] if truth in letters else None


def parse_number(text: object) -> float | None:
    """The first number in a string ('2.5 m' -> 2.5), a number itself, or None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    if not isinstance(text, str):
        return None
    match = _NUMBER.search(text.replace(",", ""))
    if match is None:
        return None
    try:
        value = float(match.group())
    except (ValueError, OverflowError):
        return None
    return value


def is_finite_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def tokens(text: str) -> set[str]:
    """The word set of a text (lower case), for similarity."""
    return set(_WORD.findall(str(text).lower()))


def content_words(text: str, categories: Iterable[str]) -> list[str]:
    """The scene categories and numbers a text names, in the order it names them (the words
    that decide what a question asks, as opposed to how it is worded)."""
    spans: list[tuple[int, str]] = []
    masked = f" {normalise(text)} "
    for category in sorted({normalise(c) for c in categories if c.strip()}, key=len, reverse=True):
        pattern = re.compile(rf"(?<![a-z0-9]){re.escape(category)}(?:e?s)?(?![a-z0-9])")
        for match in pattern.finditer(masked):
            spans.append((match.start(), category))
        masked = pattern.sub(lambda m: " " * len(m.group()), masked)
    spans += [(m.start(), m.group()) for m in _NUMBER.finditer(masked)]
    return [word for _, word in sorted(spans)]


def mentioned(question: str, categories: Iterable[str]) -> list[str]:
    """Categories named in the question as whole words, longest names first, each place of
    the text counted once ('table lamp' hides 'table' and 'lamp' where it matches)."""
    text = f" {normalise(question)} "
    found: list[str] = []
    for category in sorted({normalise(c) for c in categories if c.strip()}, key=len, reverse=True):
        pattern = re.compile(rf"(?<![a-z0-9]){re.escape(category)}(?:e?s)?(?![a-z0-9])")
        if pattern.search(text):
            found.append(category)
            text = pattern.sub(" ", text)
    return found
