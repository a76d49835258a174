"""Samples become TRL rows with the solver's exact prompt; labels cover only the answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoProcessor

from agents.records import Sample
from agents.solver.encoding import scoring_text
from agents.solver.prompts import render_question
from common.errors import UserError
from training.collator import IGNORE_INDEX, SolverCollator, row_item
from training.data import (
    answer_tags_instruction,
    build_grpo_dataset,
    build_packed_sft_dataset,
    build_sft_dataset,
)

from .conftest import FRAME_SIZE, make_sample


def test_sft_rows_carry_the_solver_prompt_and_fixed_size_frames(
    samples: list[Sample], scene_root: Path
) -> None:
    dataset = build_sft_dataset(samples, scene_root, num_frames=4, frame_size=FRAME_SIZE)
    accepted = [s for s in samples if s.verdict == "accepted"]
    assert [row["sample_id"] for row in dataset] == [s.sample_id for s in accepted]
    for row, sample in zip(dataset, accepted, strict=True):
        user, assistant = row["messages"]
        proposal = sample.proposal
        expected = render_question(proposal.question, proposal.options, proposal.answer_kind)
        assert user["content"][-1]["text"] == expected
        assert assistant["content"][0]["text"] == sample.ground_truth
        images = [part for part in user["content"] if part["type"] == "image"]
        assert len(images) == len(row["images"])
        assert all(image.size == (FRAME_SIZE, FRAME_SIZE) for image in row["images"])
    # the proposal's own frames when it names them (3), else 4 uniform ones
    assert [len(row["images"]) for row in dataset] == [4, 4, 3, 4]


def test_messages_render_to_the_text_the_solver_scores(
    samples: list[Sample], scene_root: Path, tiny_dir: Path
) -> None:
    processor = AutoProcessor.from_pretrained(tiny_dir)
    for row in build_sft_dataset(samples, scene_root, num_frames=4, frame_size=FRAME_SIZE):
        rendered = processor.apply_chat_template(row["messages"], tokenize=False)
        assert rendered == scoring_text(processor, row_item(row), len(row["images"])).full_text


@pytest.mark.parametrize("end_of_turn", [True, False])
def test_labels_mask_everything_but_the_answer(
    samples: list[Sample], scene_root: Path, tiny_dir: Path, end_of_turn: bool
) -> None:
    processor = AutoProcessor.from_pretrained(tiny_dir)
    dataset = build_sft_dataset(samples, scene_root, num_frames=4, frame_size=FRAME_SIZE)
    rows = [dataset[i] for i in range(len(dataset))]
    batch = SolverCollator(processor, FRAME_SIZE, train_end_of_turn=end_of_turn)(rows)
    tokenizer = processor.tokenizer
    for row, ids, labels, segments in zip(
        rows, batch["input_ids"], batch["labels"], batch["answer_segments"], strict=True
    ):
        kept = (labels != IGNORE_INDEX).nonzero()[:, 0]
        assert kept.tolist() == list(range(int(kept[0]), int(kept[-1]) + 1))  # one contiguous run
        assert (labels[kept] == ids[kept]).all()
        answer_ids = tokenizer(row["ground_truth"], add_special_tokens=False)["input_ids"]
        expected = answer_ids + (
            [tokenizer.convert_tokens_to_ids("<|im_end|>")] if end_of_turn else []
        )
        assert labels[kept].tolist() == expected
        assert ids[segments == 1].tolist() == answer_ids  # the confidence counts the answer only
        image_token = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        assert (labels[ids == image_token] == IGNORE_INDEX).all()
    assert batch["sample_ids"] == [[row["sample_id"]] for row in rows]
    lengths = [
        len(tokenizer(r["ground_truth"], add_special_tokens=False)["input_ids"]) for r in rows
    ]
    assert max(lengths) > 1  # a multi-token answer is covered ('2.75')


def test_grpo_prompt_adds_the_answer_tag_instruction(
    samples: list[Sample], scene_root: Path
) -> None:
    tagged = build_grpo_dataset(samples, scene_root, num_frames=4, frame_size=FRAME_SIZE)
    plain = build_grpo_dataset(
        samples, scene_root, num_frames=4, frame_size=FRAME_SIZE, answer_format="plain"
    )
    for row_tagged, row_plain in zip(tagged, plain, strict=True):
        text_plain = row_plain["prompt"][0]["content"][-1]["text"]
        text_tagged = row_tagged["prompt"][0]["content"][-1]["text"]
        assert text_plain == render_question(
            row_plain["question"], row_plain["options"], row_plain["answer_kind"]
        )
        assert text_tagged == f"{text_plain}\n{answer_tags_instruction(row_plain['answer_kind'])}"
        assert "<answer>" in text_tagged and len(row_tagged["prompt"]) == 1
        assert {"ground_truth", "answer_kind", "question_type"} <= set(row_tagged)
        assert all(image.size == (FRAME_SIZE, FRAME_SIZE) for image in row_tagged["images"])


def test_packed_rows_group_questions_about_the_same_frames(
    samples: list[Sample], scene_root: Path
) -> None:
    dataset = build_packed_sft_dataset(
        samples, scene_root, num_frames=4, frame_size=FRAME_SIZE, questions_per_sequence=8
    )
    groups = sorted(len(row["questions"]) for row in dataset)
    assert groups == [1, 1, 2]  # room-a's two uniform questions share their frames
    single = build_packed_sft_dataset(
        samples, scene_root, num_frames=4, frame_size=FRAME_SIZE, questions_per_sequence=1
    )
    assert len(single) == 4


def test_errors_say_what_to_do(scene_root: Path, samples: list[Sample]) -> None:
    rejected = [s for s in samples if s.verdict != "accepted"]
    with pytest.raises(UserError, match="accepted"):
        build_sft_dataset(rejected, scene_root)
    stray = make_sample("room-z", "How many chair(s) are in this room?", "2")
    with pytest.raises(UserError, match="room-z"):
        build_sft_dataset([stray], scene_root)
    with pytest.raises(UserError, match="no scene folders"):
        build_sft_dataset(samples, scene_root / "room-a" / "frames")
