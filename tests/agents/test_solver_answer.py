"""Greedy answers: VSI-Bench parsing, batch-independence, agreement with the letter distribution."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from PIL import Image
from transformers import PreTrainedModel, ProcessorMixin

from agents.solver.config import SolverConfig
from agents.solver.encoding import scoring_text
from agents.solver.items import SolverItem
from agents.solver.prompts import parse_reply
from agents.solver.solver import Solver

OPTIONS = ["A. chair", "B. table", "C. lamp", "D. sofa"]
QUESTIONS = [
    "Which object is closest to the bed?",
    "Which object is farthest from the door?",
    "Which of these objects appears first in the video?",
    "Which object is the largest?",
    "Measuring from the closest point of each object, which is closest to the sink?",
    "If I am standing by the tv and facing the window, which object is to my left?",
]


def letter_items(frames_of: Callable[[int, int], list[Image.Image]]) -> list[SolverItem]:
    return [
        SolverItem.from_images(
            question,
            frames_of(10 + i, 1 + i % 3),
            "multiple_choice",
            options=OPTIONS,
            ground_truth="ABCD"[i % 4],
            sample_id=f"q{i}",
        )
        for i, question in enumerate(QUESTIONS)
    ]


def teach_replies(
    model: PreTrainedModel, processor: ProcessorMixin, items: list[SolverItem], steps: int
) -> None:
    """A few optimizer steps on the ground-truth replies, so the tiny model answers in letters."""
    frames = [[image.convert("RGB") for image in item.images or []] for item in items]
    texts = [scoring_text(processor, item, len(f)) for item, f in zip(items, frames, strict=True)]
    inputs = processor(
        text=[t.full_text for t in texts],
        images=frames,
        padding=True,
        padding_side="right",
        return_tensors="pt",
    )
    labels = torch.full_like(inputs["input_ids"], -100)
    for row, text in enumerate(texts):
        end = int(inputs["attention_mask"][row].sum())
        labels[row, end - len(text.reply_ids) : end] = torch.tensor(text.reply_ids)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


@pytest.fixture(scope="module")
def letter_solver(
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
    frames_of: Callable[[int, int], list[Image.Image]],
) -> Solver:
    model, processor = tiny_model
    trained = copy.deepcopy(model)
    teach_replies(trained, processor, letter_items(frames_of), steps=12)
    config = SolverConfig(model="tiny", device="cpu", frame_size=64, batch_size=4)
    return Solver(config, trained, processor)


def held_out_items(frames_of: Callable[[int, int], list[Image.Image]]) -> list[SolverItem]:
    questions = [
        "Which object is nearest to the stove?",
        "Which is the smallest object?",
        "Which object is to the right of the piano?",
        "Which one appears last in the video?",
    ]
    return [
        SolverItem.from_images(
            q,
            frames_of(50 + i, 2),
            "multiple_choice",
            options=OPTIONS[: 3 + i % 2],
            ground_truth="A",
        )
        for i, q in enumerate(questions)
    ]


def test_letter_distribution_agrees_with_greedy_letters(
    letter_solver: Solver, frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    trained_on = letter_items(frames_of)
    items = trained_on + held_out_items(frames_of)
    answers = letter_solver.answer(items)
    scores = letter_solver.confidence(items)
    assert [a.answer for a in answers[: len(trained_on)]] == [i.ground_truth for i in trained_on]
    lettered = [
        (a, s) for a, s in zip(answers, scores, strict=True) if a.answer in "ABCD" and a.answer
    ]
    assert len(lettered) >= len(trained_on) + 1, [a.reply for a in answers]
    for answer, score in lettered:
        assert score.letter_probs is not None
        assert sum(score.letter_probs.values()) == pytest.approx(1.0, abs=1e-12)
        assert max(score.letter_probs, key=score.letter_probs.get) == answer.answer


def test_batched_answers_equal_one_at_a_time(
    make_solver: Callable[..., Solver], frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    items = [
        *letter_items(frames_of)[:4],
        SolverItem.from_images("How many chair(s) are in this room?", frames_of(5, 2), "numeric"),
    ]
    batched = make_solver(batch_size=5).answer(items)
    single = make_solver(batch_size=1).answer(items)
    assert [a.reply for a in batched] == [a.reply for a in single]
    assert all(a.answer == parse_reply(a.reply) for a in batched)
