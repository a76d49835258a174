"""The multi-turn drawing solver: Qwen's tool protocol on the tiny model, parsing, transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from transformers import AutoProcessor

from agents.solver.config import SolverConfig
from agents.solver.items import SolverItem
from agents.solver.tool_chat import (
    build_tiny_tool_solver,
    parse_tool_calls,
    tool_call_text,
)
from agents.solver.tool_solver import ToolSolver, ToolSolverConfig, final_answer, final_reply
from agents.solver.transcript import Transcript


@pytest.fixture(scope="module")
def tool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_tool_solver(tmp_path_factory.mktemp("tool-solver"), frame_size=64)


def frames(count: int = 2) -> list[Image.Image]:
    return [Image.new("RGB", (64, 64), (60 * i, 20, 90)) for i in range(count)]


def item() -> SolverItem:
    return SolverItem.from_images(
        "Which is closer to the bed?",
        frames(),
        "multiple_choice",
        options=["A. lamp", "B. chair"],
        ground_truth="A",
        sample_id="q1",
    )


def test_trl_recognises_and_parses_the_tiny_models_tool_calls(tool_dir: Path) -> None:
    from trl.chat_template_utils import (
        add_response_schema,
        is_chat_template_prefix_preserving,
        parse_response,
        supports_tool_calling,
    )

    processor = AutoProcessor.from_pretrained(tool_dir)
    assert supports_tool_calling(processor) and is_chat_template_prefix_preserving(processor)
    add_response_schema(processor)
    tokenizer = processor.tokenizer
    arguments = {"image_index": 1, "objects": [{"bbox_2d": [1, 2, 3, 4], "label": "bed"}]}
    text = f"<think>box it</think>\n{tool_call_text('object_mapper', arguments)}<|im_end|>"
    for tag in ("<tool_call>", "</tool_call>", "<think>", "</think>"):
        assert len(tokenizer(tag, add_special_tokens=False)["input_ids"]) == 1
    prefix = tokenizer("<|im_start|>assistant\n")["input_ids"]
    parsed = parse_response(tokenizer, tokenizer(text)["input_ids"], prefix=prefix)
    assert parsed["reasoning_content"] == "box it"
    assert parsed["tool_calls"][0]["function"] == {"name": "object_mapper", "arguments": arguments}
    assert parse_tool_calls(text) == [{"name": "object_mapper", "arguments": arguments}]


def test_malformed_calls_are_skipped() -> None:
    text = '<tool_call>\n{"name": "object_mapper", "arguments": \n</tool_call><tool_call>\n[1]\n</tool_call>'
    assert parse_tool_calls(text) == []


def test_conversation_renders_tools_frames_and_index_lines(tool_dir: Path, tmp_path: Path) -> None:
    solver = ToolSolver(
        SolverConfig(model=str(tool_dir), frame_size=64),
        ToolSolverConfig(max_turns=2, max_new_tokens=8, transcripts_dir=str(tmp_path)),
    )
    [result] = solver.answer([item()])
    transcript = Transcript.load(tmp_path / "q1")
    text = solver.processor.apply_chat_template(
        transcript.messages, tools=solver.schemas, tokenize=False
    )
    assert '"name": "object_mapper"' in text and '"name": "path_tracer"' in text
    assert "The index of the given image is 2 (width: 64, height: 64)" in text
    assert text.count("<|image_pad|>") == len(transcript.images) == 2
    assert result.reply == final_reply(transcript) and result.answer == final_answer(transcript)
    [confidence] = solver.confidence([item()])
    assert 0 < confidence.confidence <= 1 and set(confidence.letter_probs or {}) == {"A", "B"}
    assert sum((confidence.letter_probs or {}).values()) == pytest.approx(1.0)


def test_tool_results_come_back_as_images(tool_dir: Path) -> None:
    """The solver's tool dispatch: a drawn image is appended, a bad call returns an error."""
    from tools.drawing.environment import DrawingEnvironment

    environment = DrawingEnvironment(frames())
    good = {
        "name": "object_mapper",
        "arguments": {"image_index": 2, "objects": [{"bbox_2d": [1, 1, 9, 9], "label": "bed"}]},
    }
    result = ToolSolver._call(environment, good)
    assert isinstance(result, list) and result[0]["type"] == "image"
    assert "index of the given image is 3" in result[1]["text"]
    assert ToolSolver._call(environment, {"name": "erase", "arguments": {}}).startswith("Error")
    bad = ToolSolver._call(environment, {"name": "path_tracer", "arguments": {"index": 1}})
    assert isinstance(bad, str) and "bad arguments" in bad
    out_of_range = ToolSolver._call(
        environment, {"name": "path_tracer", "arguments": {"image_index": 9, "paths": [{}]}}
    )
    assert isinstance(out_of_range, str) and "numbered 1..3" in out_of_range


def test_transcripts_round_trip_and_replace_whole(tmp_path: Path) -> None:
    transcript = Transcript(
        sample_id="s",
        question="q",
        answer_kind="numeric",
        ground_truth="2.5",
        messages=[
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "q"}]},
            {"role": "assistant", "content": "<think>x</think>\n<answer>2.4</answer>"},
        ],
        images=frames(1),
        num_frames=1,
    )
    folder = transcript.save(tmp_path / "s")
    again = Transcript.load(folder)
    assert again.messages == transcript.messages and again.answer_text == "2.4"
    assert list(again.images[0].getdata()) == list(transcript.images[0].getdata())
    transcript.model_copy(update={"images": []}).save(folder)
    assert not list((folder / "images").iterdir())
    assert json.loads((folder / "transcript.json").read_text())["image_files"] == []
