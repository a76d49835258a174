"""Shared-prefix packing: each packed answer's loss equals its unpacked loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from agents.solver.encoding import scoring_text
from training.collator import SolverCollator, row_item
from training.packing import collate_packed, pack_questions, shared_prefix_mask

from .conftest import FRAME_SIZE

OPTIONS = ["A. chair", "B. table", "C. lamp"]
QUESTIONS = [
    ("How many chair(s) are in this room?", [], "numeric", "3"),
    ("Which of these objects is closest to the sofa?", OPTIONS, "multiple_choice", "B"),
    ("What is the distance between the chair and the table (in meters)?", [], "numeric", "2.75"),
    (
        "Which of the following categories appear first in the video?",
        OPTIONS,
        "multiple_choice",
        "C",
    ),
]


def test_mask_lets_each_segment_see_the_prefix_and_itself() -> None:
    mask = shared_prefix_mask(3, [2, 2])
    expected = torch.tensor(
        [
            [1, 0, 0, 0, 0, 0, 0],
            [1, 1, 0, 0, 0, 0, 0],
            [1, 1, 1, 0, 0, 0, 0],
            [1, 1, 1, 1, 0, 0, 0],
            [1, 1, 1, 1, 1, 0, 0],
            [1, 1, 1, 0, 0, 1, 0],
            [1, 1, 1, 0, 0, 1, 1],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(mask, expected)


def per_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    log_probs = torch.log_softmax(logits[:-1].double(), dim=-1)
    targets = labels[1:]
    losses = torch.zeros_like(targets, dtype=torch.float64)
    kept = targets != -100
    losses[kept] = -log_probs[kept, targets[kept]]
    return losses


@pytest.mark.parametrize("end_of_turn", [True, False])
def test_packed_answers_have_their_unpacked_loss(tiny_dir: Path, end_of_turn: bool) -> None:
    model = AutoModelForImageTextToText.from_pretrained(tiny_dir, attn_implementation="sdpa").eval()
    processor = AutoProcessor.from_pretrained(tiny_dir)
    rng = np.random.default_rng(3)
    images = [
        Image.fromarray(rng.integers(0, 256, (FRAME_SIZE, FRAME_SIZE, 3), dtype=np.uint8))
        for _ in range(3)
    ]
    rows = [
        {"question": q, "options": o, "answer_kind": k, "ground_truth": a, "images": images}
        for q, o, k, a in QUESTIONS
    ]
    texts = [scoring_text(processor, row_item(row), len(images)) for row in rows]
    packed = pack_questions(
        model, processor, texts, [row["ground_truth"] for row in rows], images, end_of_turn
    )
    batch = collate_packed([packed], processor.tokenizer.pad_token_id, "sdpa", torch.float32)
    collator = SolverCollator(processor, FRAME_SIZE, train_end_of_turn=end_of_turn)
    with torch.no_grad():
        logits = model(
            **{
                k: batch[k]
                for k in (
                    "input_ids",
                    "attention_mask",
                    "position_ids",
                    "pixel_values",
                    "image_grid_thw",
                )
            }
        ).logits[0]
        packed_losses = per_token_loss(logits, batch["labels"][0])
        for k, (row, (start, end)) in enumerate(zip(rows, packed.segments, strict=True)):
            alone = collator([row])
            alone_logits = model(
                **{
                    key: value
                    for key, value in alone.items()
                    if key not in ("labels", "answer_segments", "sample_ids")
                }
            ).logits[0]
            alone_losses = per_token_loss(alone_logits, alone["labels"][0])
            kept = alone["labels"][0, 1:] != -100
            segment = batch["labels"][0, start:end][1:] != -100  # within the segment, shifted
            assert (
                int(kept.sum())
                == int(segment.sum())
                == int((packed.labels[start:end] != -100).sum())
            )
            packed_mean = packed_losses[start - 1 : end - 1][
                batch["labels"][0, start:end] != -100
            ].mean()
            alone_mean = alone_losses[kept].mean()
            assert abs(float(packed_mean) - float(alone_mean)) < 1e-5, k
            assert int((packed.answer_segments == k + 1).sum()) == int(
                (alone["answer_segments"] == 1).sum()
            )
    prefix = packed.segments[0][0]
    unpacked_tokens = sum(collator([row])["input_ids"].shape[1] for row in rows)
    assert len(packed.input_ids) == unpacked_tokens - (len(rows) - 1) * prefix  # frames once


def test_flash_attention_is_refused_with_the_fix(tiny_dir: Path) -> None:
    from training.packing import attention_mask_for

    with pytest.raises(ValueError, match="sdpa"):
        attention_mask_for(
            torch.ones(1, 1, 2, 2, dtype=torch.bool), "flash_attention_2", torch.float32
        )
