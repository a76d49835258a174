"""Qwen's native tool-calling chat for the drawing solver: template, tokens, messages, parsing.

Real Qwen3-VL (and Qwen2.5-VL) checkpoints already speak this protocol: tools listed in
the system turn, calls as ``<tool_call>{"name": ..., "arguments": ...}</tool_call>``,
results in a user turn inside ``<tool_response>``. ``make_tool_capable`` gives the tiny
solver the same: Qwen3-VL's template (the one TRL recognises, so its tool loop parses
our calls) and the tool and thinking tags as added tokens.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, PreTrainedModel, ProcessorMixin

from agents.solver.items import SolverItem
from agents.solver.prompts import render_question
from tools.drawing.board import index_text
from tools.geometry.image_space import CoordinateMode

TOOL_TOKENS: tuple[str, ...] = (
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
)
_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)
COORDINATE_WORDS: dict[str, str] = {
    "pixels": "absolute pixels [x1, y1, x2, y2]",
    "norm1000": "relative, from 0 to 1000 on each axis [x1, y1, x2, y2]",
}


def qwen3_vl_template() -> str:
    from trl.chat_template_utils import qwen3_vl_chat_template

    return qwen3_vl_chat_template


def make_tool_capable(processor: ProcessorMixin, model: PreTrainedModel | None = None) -> bool:
    """Give a processor (and its model) the tool protocol if it lacks it; True if changed."""
    from trl.chat_template_utils import supports_tool_calling

    tokenizer = processor.tokenizer
    vocab = tokenizer.get_vocab()
    missing = [token for token in TOOL_TOKENS if token not in vocab]
    changed = bool(missing)
    if missing:
        tokenizer.add_tokens(missing, special_tokens=False)
    if not supports_tool_calling(processor):
        processor.chat_template = qwen3_vl_template()
        tokenizer.chat_template = processor.chat_template
        changed = True
    if model is not None:
        rows = model.get_input_embeddings().weight.shape[0]
        if len(tokenizer) > rows:
            model.resize_token_embeddings(len(tokenizer), pad_to_multiple_of=64)
    return changed


def build_tiny_tool_solver(path: Path, **tiny_kwargs: Any) -> Path:
    """The tiny solver (see ``agents.solver.tiny``) speaking Qwen's tool protocol."""
    from agents.solver.tiny import build_tiny_solver

    path = build_tiny_solver(Path(path), **tiny_kwargs)
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path)
    make_tool_capable(processor, model)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@cache
def _template(name: str) -> Template:
    text = resources.files("agents.solver").joinpath("tool_prompts", name).read_text("utf-8")
    return Template(text.rstrip("\n"))


def system_message(coordinates: CoordinateMode) -> dict[str, Any]:
    text = _template("system.txt").substitute(coordinates=COORDINATE_WORDS[coordinates])
    return {"role": "system", "content": [{"type": "text", "text": text}]}


def question_text(item: SolverItem) -> str:
    """VSI-Bench's question layout, asked to reason first and answer in <answer> tags."""
    question = render_question(item.question, item.options, item.answer_kind)
    question = question.splitlines()
    body = "\n".join(question[:-1]) if len(question) > 1 else question[0]
    hint = " as the option's letter" if item.answer_kind == "multiple_choice" else " as a number"
    return _template("answer.txt").substitute(question=body, answer_hint=hint)


def user_message(item: SolverItem, frames: list[Image.Image]) -> dict[str, Any]:
    """Each frame followed by its index line (as ViLaSR shows them), then the question."""
    content: list[dict[str, Any]] = []
    for k, frame in enumerate(frames, start=1):
        content.append({"type": "image"})
        content.append({"type": "text", "text": index_text(k, frame) + "\n"})
    content.append({"type": "text", "text": question_text(item)})
    return {"role": "user", "content": content}


def tool_message(name: str, result: list[dict[str, Any]] | str) -> dict[str, Any]:
    """A tool turn; images are kept out of the message (placeholders only) and returned apart."""
    if isinstance(result, str):
        return {"role": "tool", "name": name, "content": [{"type": "text", "text": result}]}
    parts = [
        {"type": "image"} if part.get("type") == "image" else {"type": "text", "text": part["text"]}
        for part in result
    ]
    return {"role": "tool", "name": name, "content": parts}


def parse_tool_calls(text: str) -> list[dict[str, Any]]:
    """``{"name", "arguments"}`` of each well-formed ``<tool_call>``; malformed ones are skipped."""
    calls = []
    for body in _TOOL_CALL.findall(text):
        try:
            call = json.loads(body)
        except json.JSONDecodeError:
            continue
        if isinstance(call, dict) and isinstance(call.get("name"), str):
            arguments = call.get("arguments", {})
            calls.append(
                {
                    "name": call["name"],
                    "arguments": arguments if isinstance(arguments, dict) else {},
                }
            )
    return calls


def count_tool_call_blocks(text: str) -> int:
    return len(_TOOL_CALL.findall(text))


def tool_call_text(name: str, arguments: dict[str, Any]) -> str:
    """A call exactly as Qwen's template writes one."""
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"
