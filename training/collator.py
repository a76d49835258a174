"""Batches for SFT: the solver's exact token layout, loss on the answer only.

Each question is rendered with `agents.solver.encoding.scoring_text`, the function the
solver's confidence uses, so training and scoring see the same tokens. Labels are -100
everywhere except the answer's tokens (and, by default, the end-of-turn token after them);
`answer_segments` marks the tokens that enter each sample's confidence.

`SolverCollator` takes one question per row; `PackedSolverCollator` takes rows that hold
several questions about one frame set and packs them behind one frame prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image
from transformers import PreTrainedModel, ProcessorMixin

from agents.solver.encoding import ScoringText, encode_ids, scoring_text
from agents.solver.frames import resize_frames
from agents.solver.items import SolverItem
from agents.solver.scoring import encode_batch, reply_start
from training.packing import IGNORE_INDEX, collate_packed, pack_questions


def row_item(row: dict[str, Any]) -> SolverItem:
    """The solver item for one question (its frames are passed separately)."""
    return SolverItem(
        question=row["question"],
        options=list(row.get("options") or []),
        answer_kind=row["answer_kind"],
        ground_truth=row["ground_truth"],
        sample_id=row.get("sample_id"),
    )


def trained_length(
    processor: ProcessorMixin, text: ScoringText, answer: str, end_of_turn: bool
) -> int:
    """Reply tokens that carry loss: the answer, plus the end-of-turn token when asked."""
    answer_length = len(encode_ids(processor.tokenizer, answer.strip()))
    return answer_length + (1 if end_of_turn and len(text.reply_ids) > answer_length else 0)


@dataclass
class SolverCollator:
    """One question per row: model inputs with answer-only labels and confidence segments."""

    processor: ProcessorMixin
    frame_size: int
    train_end_of_turn: bool = True
    include_end_of_turn: bool = False

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        images = [resize_frames(list(row["images"]), self.frame_size) for row in rows]
        texts = [
            scoring_text(self.processor, row_item(row), len(frames), self.include_end_of_turn)
            for row, frames in zip(rows, images, strict=True)
        ]
        batch = encode_batch(self.processor, [text.full_text for text in texts], images, "right")
        input_ids, attention = batch["input_ids"], batch["attention_mask"]
        labels = torch.full_like(input_ids, IGNORE_INDEX)
        answer_segments = torch.zeros_like(input_ids)
        for row, (data, text) in enumerate(zip(rows, texts, strict=True)):
            start = reply_start(input_ids[row], attention[row], text)
            end = start + trained_length(
                self.processor, text, str(data["ground_truth"]), self.train_end_of_turn
            )
            labels[row, start:end] = input_ids[row, start:end]
            answer_segments[row, start : start + text.scored_count] = 1
        batch["labels"] = labels
        batch["answer_segments"] = answer_segments
        batch["sample_ids"] = [[row.get("sample_id")] for row in rows]
        return batch


@dataclass
class PackedSolverCollator:
    """Rows of several questions about one frame set, each packed behind one frame prefix."""

    model: PreTrainedModel
    processor: ProcessorMixin
    frame_size: int
    train_end_of_turn: bool = True
    include_end_of_turn: bool = False

    def pack(self, row: dict[str, Any], images: list[Image.Image]) -> Any:
        questions = list(row["questions"])
        texts = [
            scoring_text(self.processor, row_item(q), len(images), self.include_end_of_turn)
            for q in questions
        ]
        answers = [str(q["ground_truth"]) for q in questions]
        return pack_questions(
            self.model, self.processor, texts, answers, images, self.train_end_of_turn
        )

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        sequences = [
            self.pack(row, resize_frames(list(row["images"]), self.frame_size)) for row in rows
        ]
        batch = collate_packed(
            sequences,
            self.processor.tokenizer.pad_token_id,
            self.model.config._attn_implementation,
            self.model.dtype,
        )
        batch["sample_ids"] = [[q["sample_id"] for q in row["questions"]] for row in rows]
        return batch
