"""Multi-turn SFT batches: loss on the assistant turns only, tool turns and images masked.

A transcript is rendered with the chat template (the same text the solver generates
from), each image placeholder is expanded to its vision tokens, and the text is tokenised
once with character offsets. Labels keep only tokens inside assistant turns (each turn's
text and its ``<|im_end|>``); system, user and tool turns, and every vision token, are -100.
``answer_mask`` marks the final answer inside the last ``<answer>`` tags, where the
loop's confidence is measured.

Rows are built here from ``Transcript`` objects, never through ``datasets.from_list``:
that path re-orders nested image parts inside tool messages and breaks the count of image
placeholders against images.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import torch
from transformers import ProcessorMixin

from agents.solver.tool_chat import make_tool_capable
from agents.solver.transcript import Transcript
from tools.drawing.environment import tool_schemas

IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
_ASSISTANT = re.compile(r"<\|im_start\|>assistant\n(.*?)(<\|im_end\|>)", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


@dataclass
class EncodedTranscript:
    input_ids: list[int]
    labels: list[int]
    answer_mask: list[int]
    pixel_values: torch.Tensor | None
    image_grid_thw: torch.Tensor | None
    sample_id: str | None


class MultiTurnCollator:
    """Transcripts -> padded model inputs with assistant-only labels."""

    def __init__(
        self,
        processor: ProcessorMixin,
        train_end_of_turn: bool = True,
        max_length: int | None = None,
    ) -> None:
        make_tool_capable(processor)
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.train_end_of_turn = train_end_of_turn
        self.max_length = max_length
        self.schemas = tool_schemas()
        self.image_token_id = self.tokenizer.convert_tokens_to_ids("<|image_pad|>")

    def render(self, transcript: Transcript) -> str:
        return self.processor.apply_chat_template(
            transcript.messages, tools=self.schemas, tokenize=False
        )

    def encode(self, transcript: Transcript) -> EncodedTranscript:
        text = self.render(transcript)
        placeholders = text.count(IMAGE_PLACEHOLDER)
        if placeholders != len(transcript.images):
            raise ValueError(
                f"transcript {transcript.sample_id}: {placeholders} image placeholders but "
                f"{len(transcript.images)} images; the messages and images are out of step"
            )
        pixel_values = grid = None
        if transcript.images:
            vision = self.processor.image_processor(images=transcript.images, return_tensors="pt")
            pixel_values, grid = vision["pixel_values"], vision["image_grid_thw"]
            merge = self.processor.image_processor.merge_size
            counts = [int(g.prod()) // (merge * merge) for g in grid]
            pieces = text.split(IMAGE_PLACEHOLDER)
            text = pieces[0]
            for count, piece in zip(counts, pieces[1:], strict=True):
                text += "<|vision_start|>" + "<|image_pad|>" * count + "<|vision_end|>" + piece
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids: list[int] = encoded["input_ids"]
        offsets: list[tuple[int, int]] = encoded["offset_mapping"]
        trained = [False] * len(ids)
        answer = [0] * len(ids)
        spans = list(_ASSISTANT.finditer(text))
        for span in spans:
            end = span.end(2) if self.train_end_of_turn else span.end(1)
            self._mark(offsets, span.start(1), end, trained)
        if spans:
            last = spans[-1]
            found = list(_ANSWER.finditer(text, last.start(1), last.end(1)))
            if found:
                marks = [False] * len(ids)
                self._mark(offsets, found[-1].start(1), found[-1].end(1), marks)
                answer = [int(m) for m in marks]
        labels = [
            token if keep and token != self.image_token_id else -100
            for token, keep in zip(ids, trained, strict=True)
        ]
        if self.max_length is not None and len(ids) > self.max_length:
            raise ValueError(
                f"transcript {transcript.sample_id} is {len(ids)} tokens, over max_length "
                f"{self.max_length}; raise it or use fewer frames"
            )
        return EncodedTranscript(ids, labels, answer, pixel_values, grid, transcript.sample_id)

    @staticmethod
    def _mark(offsets: list[tuple[int, int]], start: int, end: int, marks: list[bool]) -> None:
        for i, (a, b) in enumerate(offsets):
            if a >= start and b <= end and b > a:
                marks[i] = True

    def __call__(self, transcripts: list[Transcript]) -> dict[str, Any]:
        encoded = [self.encode(t) for t in transcripts]
        length = max(len(e.input_ids) for e in encoded)
        pad = self.tokenizer.pad_token_id
        batch = {
            "input_ids": torch.full((len(encoded), length), pad, dtype=torch.long),
            "attention_mask": torch.zeros((len(encoded), length), dtype=torch.long),
            "labels": torch.full((len(encoded), length), -100, dtype=torch.long),
            "answer_mask": torch.zeros((len(encoded), length), dtype=torch.long),
        }
        for row, item in enumerate(encoded):
            n = len(item.input_ids)
            batch["input_ids"][row, :n] = torch.tensor(item.input_ids)
            batch["attention_mask"][row, :n] = 1
            batch["labels"][row, :n] = torch.tensor(item.labels)
            batch["answer_mask"][row, :n] = torch.tensor(item.answer_mask)
        batch["mm_token_type_ids"] = (batch["input_ids"] == self.image_token_id).long()
        with_images = [e for e in encoded if e.pixel_values is not None]
        if with_images:
            batch["pixel_values"] = torch.cat([e.pixel_values for e in with_images])
            batch["image_grid_thw"] = torch.cat([e.image_grid_thw for e in with_images])
        batch["sample_ids"] = [e.sample_id for e in encoded]
        return batch
