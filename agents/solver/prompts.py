"""VSI-Bench-compatible prompts and reply parsing, so our scores compare with published ones.

The layout follows VSI-Bench's evaluation code (thinking-in-space, lmms-eval task
``vsibench``): pre-prompt, question, ``Options:`` plus one line per option for multiple
choice, then the post-prompt, joined by newlines. The text lives in ``prompts/*.txt``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template
from typing import Any

from agents.records import AnswerKind

PROMPT_FILES: dict[str, str] = {
    "multiple_choice": "multiple_choice.txt",
    "numeric": "numeric.txt",
}


@cache
def load_template(answer_kind: str) -> Template:
    """The prompt template for an answer kind, read once from the package's prompts folder."""
    if answer_kind not in PROMPT_FILES:
        raise ValueError(
            f"unknown answer kind {answer_kind!r}; expected one of {sorted(PROMPT_FILES)}"
        )
    text = resources.files("agents.solver").joinpath("prompts", PROMPT_FILES[answer_kind])
    return Template(text.read_text(encoding="utf-8").rstrip("\n"))


def render_question(question: str, options: list[str], answer_kind: AnswerKind) -> str:
    """The user text for one question, exactly as VSI-Bench lays it out."""
    if answer_kind == "multiple_choice" and not options:
        raise ValueError("a multiple-choice question needs options like 'A. chair'")
    return load_template(answer_kind).substitute(
        question=question.strip(), options="\n".join(options)
    )


def user_message(prompt: str, num_images: int, video: bool = False) -> dict[str, Any]:
    """A chat user turn: the frames first (as images, or as one video), then the text
    (VSI-Bench order)."""
    content: list[dict[str, Any]] = (
        [{"type": "video"}] if video else [{"type": "image"} for _ in range(num_images)]
    )
    content.append({"type": "text", "text": prompt})
    return {"role": "user", "content": content}


def assistant_message(reply: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": reply}]}


def parse_reply(text: str) -> str:
    """VSI-Bench's reply parsing after the harness's strip: the first space-separated word,
    trailing periods stripped (evaluation.metrics.parse_reply is the reference)."""
    return text.strip().split(" ")[0].rstrip(".").strip()
