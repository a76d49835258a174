"""A solver that draws to reason (ViLaSR): several turns, drawing tools between them.

Each turn the model thinks, then either calls ``object_mapper`` / ``path_tracer`` in Qwen's
``<tool_call>`` syntax or answers in ``<answer>`` tags. Drawn images come back in a tool
turn and the model continues. It sits behind the same interface as ``Solver``:
``answer`` returns the final answer, ``confidence`` scores the ground truth as the final
answer after the model's own drawing turns (the loop's confidence comes from the final
answer). Every conversation is kept as a ``Transcript`` (saved when ``transcripts_dir`` is set).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from transformers import GenerationConfig, PreTrainedModel, ProcessorMixin

from agents.answer_scoring import parse_reply
from agents.records import OPTION_LETTERS
from agents.solver.config import SolverConfig
from agents.solver.frame_cache import FrameCache
from agents.solver.items import AnswerResult, ConfidenceResult, SolverItem
from agents.solver.solver import Solver, load_model
from agents.solver.tool_chat import (
    make_tool_capable,
    parse_tool_calls,
    system_message,
    tool_message,
    user_message,
)
from agents.solver.transcript import Transcript
from tools.drawing.environment import DrawingEnvironment, tool_schemas
from tools.geometry.image_space import CoordinateMode

TOOL_NAMES = ("object_mapper", "path_tracer")


@dataclass
class ToolSolverConfig:
    """How the drawing solver converses (ViLaSR's limits by default)."""

    max_turns: int = field(default=10, metadata={"help": "Model turns per question (ViLaSR: 10)."})
    max_images: int = field(default=42, metadata={"help": "Images per conversation (ViLaSR: 42)."})
    coordinates: CoordinateMode = field(
        default="pixels",
        metadata={"help": "'pixels' (Qwen2.5-VL, ViLaSR) or 'norm1000' (Qwen3-VL's 0-1000 grid)."},
    )
    max_new_tokens: int = field(default=256, metadata={"help": "Generation budget per turn."})
    temperature: float = field(
        default=0.0, metadata={"help": "0 is greedy; > 0 samples (rejection sampling uses 1.0)."}
    )
    transcripts_dir: str | None = field(
        default=None, metadata={"help": "Save every transcript here (one folder per question)."}
    )

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {self.max_turns}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


def final_reply(transcript: Transcript) -> str:
    """The final answer's text: inside <answer> tags, else what follows the last </think>.

    This is the ``reply`` evaluators parse (VSI-Bench reads its first word); the whole
    conversation stays in the transcript.
    """
    tagged = transcript.answer_text
    if tagged is not None:
        return tagged
    return transcript.final_text.split("</think>")[-1].strip()


def final_answer(transcript: Transcript) -> str:
    """What VSI-Bench scores: the final reply's first word, trailing period stripped."""
    reply = final_reply(transcript)
    return parse_reply(reply) if reply else ""


class ToolSolver:
    """Multi-turn answers and final-answer confidences from one VLM with drawing tools."""

    def __init__(
        self,
        config: SolverConfig,
        tools: ToolSolverConfig | None = None,
        model: PreTrainedModel | None = None,
        processor: ProcessorMixin | None = None,
    ) -> None:
        if (model is None) != (processor is None):
            raise ValueError("pass both model and processor, or neither (then config.model loads)")
        if model is None:
            model, processor = load_model(config)
        make_tool_capable(processor, model)
        self.config = config
        self.tools = tools or ToolSolverConfig()
        self.model = model
        self.processor = processor
        self.frames = FrameCache(config.frame_size)
        self.schemas = tool_schemas()
        self.transcripts: list[Transcript] = []

    # -- conversation ---------------------------------------------------------------------
    def _encode(self, messages: list[dict], images: list[Image.Image], prefix: str = "") -> dict:
        text = self.processor.apply_chat_template(
            messages, tools=self.schemas, tokenize=False, add_generation_prompt=True
        )
        inputs = self.processor(
            text=[text + prefix], images=images or None, return_tensors="pt", padding=True
        )
        return inputs.to(self.model.device)

    def _generate(self, messages: list[dict], images: list[Image.Image]) -> str:
        tokenizer = self.processor.tokenizer
        sample = self.tools.temperature > 0
        generation = GenerationConfig(
            max_new_tokens=self.tools.max_new_tokens,
            do_sample=sample,
            temperature=self.tools.temperature if sample else None,
            top_k=0 if sample else None,
            eos_token_id=self.model.generation_config.eos_token_id or tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        inputs = self._encode(messages, images)
        output = self.model.generate(**inputs, generation_config=generation)
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)

    @torch.no_grad()
    def converse(self, item: SolverItem, max_turns: int | None = None) -> Transcript:
        """Run the conversation for one question until it answers or runs out of turns."""
        frames = self.frames.for_item(item, blind=False)
        environment = DrawingEnvironment(frames, self.tools.coordinates, self.tools.max_images)
        messages = [system_message(self.tools.coordinates), user_message(item, frames)]
        images = list(frames)
        calls = failures = 0
        turns = max_turns or self.tools.max_turns
        for turn in range(turns):
            reply = self._generate(messages, images)
            messages.append({"role": "assistant", "content": reply})
            requested = parse_tool_calls(reply)
            if not requested or turn == turns - 1 or "<answer>" in reply:
                break
            for call in requested:
                calls += 1
                result = self._call(environment, call)
                if isinstance(result, str):
                    failures += 1
                else:
                    images.extend(p["image"] for p in result if p.get("type") == "image")
                messages.append(tool_message(call["name"], result))
        board = environment.board
        return Transcript(
            sample_id=item.sample_id,
            question=item.question,
            answer_kind=item.answer_kind,
            ground_truth=item.ground_truth,
            messages=messages,
            images=images,
            num_frames=len(frames),
            tool_calls=calls,
            tool_failures=failures,
            reflections=board.reflections if board is not None else 0,
        )

    @staticmethod
    def _call(environment: DrawingEnvironment, call: dict) -> list[dict] | str:
        if call["name"] not in TOOL_NAMES:
            return f"Error: unknown tool {call['name']!r}; use one of {', '.join(TOOL_NAMES)}"
        try:
            return getattr(environment, call["name"])(**call["arguments"])
        except TypeError as error:  # wrong or missing argument names
            return f"Error: bad arguments for {call['name']}: {error}"

    # -- the solver interface -------------------------------------------------------------
    def answer(self, items: Sequence[SolverItem], blind: bool = False) -> list[AnswerResult]:
        """Final answers after multi-turn drawing, in input order (blind: no frames, one turn)."""
        if blind:
            return Solver(self.config, self.model, self.processor).answer(items, blind=True)
        results = []
        for position, item in enumerate(items):
            transcript = self.converse(item)
            self._keep(transcript, position)
            results.append(
                AnswerResult(
                    sample_id=item.sample_id,
                    reply=final_reply(transcript),
                    answer=final_answer(transcript),
                )
            )
        return results

    def _keep(self, transcript: Transcript, position: int) -> None:
        self.transcripts.append(transcript)
        if self.tools.transcripts_dir:
            name = transcript.sample_id or f"item-{position:05d}"
            transcript.save(Path(self.tools.transcripts_dir) / name)

    @torch.no_grad()
    def confidence(
        self, items: Sequence[SolverItem], blind: bool = False
    ) -> list[ConfidenceResult]:
        """P(ground truth as the final answer) after the model's own greedy drawing turns."""
        if blind:
            return Solver(self.config, self.model, self.processor).confidence(items, blind=True)
        results = []
        for item in items:
            if item.ground_truth is None:
                raise ValueError(f"item {item.sample_id}: confidence needs its ground_truth")
            transcript = self.converse(item, max_turns=max(1, self.tools.max_turns - 1))
            messages = transcript.messages
            if messages[-1]["role"] == "assistant":
                # the model's own last turn (an answer, or a call left unrun at the turn
                # limit) is replaced by the ground truth as the final answer
                messages = messages[:-1]
            results.append(self._score_answer(item, messages, transcript.images))
        return results

    def _score_answer(
        self, item: SolverItem, messages: list[dict], images: list[Image.Image]
    ) -> ConfidenceResult:
        tokenizer = self.processor.tokenizer
        inputs = self._encode(messages, images, prefix="<answer>")
        answer_ids = tokenizer(str(item.ground_truth), add_special_tokens=False)["input_ids"]
        close_ids = tokenizer("</answer>", add_special_tokens=False)["input_ids"]
        prompt_length = inputs["input_ids"].shape[1]
        full = torch.tensor([answer_ids + close_ids], device=self.model.device)
        inputs["input_ids"] = torch.cat([inputs["input_ids"], full], dim=1)
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
        if "mm_token_type_ids" in inputs:
            pad = torch.zeros_like(full)
            inputs["mm_token_type_ids"] = torch.cat([inputs["mm_token_type_ids"], pad], dim=1)
        logits = self.model(**inputs).logits[0].float()
        log_probs = torch.log_softmax(logits, dim=-1)
        token_log_probs = [
            float(log_probs[prompt_length - 1 + i, token]) for i, token in enumerate(answer_ids)
        ]
        letter_probs = None
        if item.answer_kind == "multiple_choice":
            letters = OPTION_LETTERS[: len(item.options)]
            ids = [
                tokenizer(letter, add_special_tokens=False)["input_ids"][0] for letter in letters
            ]
            row = torch.softmax(logits[prompt_length - 1, ids], dim=-1)
            letter_probs = {letter: float(p) for letter, p in zip(letters, row, strict=True)}
        mean = sum(token_log_probs) / len(token_log_probs)
        return ConfidenceResult(
            sample_id=item.sample_id,
            confidence=min(1.0, math.exp(mean)),
            mean_log_prob=mean,
            token_log_probs=token_log_probs,
            letter_probs=letter_probs,
        )
