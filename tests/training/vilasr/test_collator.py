"""The multi-turn collator: loss on assistant turns only; tools, prompts and images masked."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoProcessor

from agents.records import Sample
from agents.solver.transcript import Transcript
from training.vilasr.cold_start import ColdStartSettings, build_cold_start
from training.vilasr.collator import MultiTurnCollator


@pytest.fixture(scope="module")
def transcripts(
    vilasr_samples: list[Sample], vilasr_scenes: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Transcript]:
    folders, _ = build_cold_start(
        vilasr_samples[:8], vilasr_scenes, tmp_path_factory.mktemp("collate"), ColdStartSettings()
    )
    assert len(folders) >= 2
    return [Transcript.load(folder) for folder in folders[:2]]


@pytest.fixture(scope="module")
def collator(tool_tiny_dir: Path) -> MultiTurnCollator:
    return MultiTurnCollator(AutoProcessor.from_pretrained(tool_tiny_dir))


def test_only_assistant_turns_are_trained(
    collator: MultiTurnCollator, transcripts: list[Transcript]
) -> None:
    transcript = transcripts[0]
    batch = collator([transcript])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    tokenizer = collator.tokenizer
    trained = tokenizer.decode(ids[labels != -100], skip_special_tokens=False)
    expected = "".join(text + "<|im_end|>" for text in transcript.assistant_texts)
    assert trained == expected
    assert (labels[labels != -100] == ids[labels != -100]).all()
    image_positions = ids == collator.image_token_id
    assert image_positions.any() and (labels[image_positions] == -100).all()
    assert "The index of the given image" not in trained  # tool results and frames' captions
    assert "# Tools" not in trained and transcript.question not in trained


def test_answer_mask_is_the_final_answer(
    collator: MultiTurnCollator, transcripts: list[Transcript]
) -> None:
    transcript = transcripts[0]
    batch = collator([transcript])
    answer = batch["answer_mask"][0].bool()
    decoded = collator.tokenizer.decode(batch["input_ids"][0][answer])
    assert decoded == transcript.ground_truth
    assert (batch["labels"][0][answer] != -100).all()


def test_images_and_vision_tokens_line_up(
    collator: MultiTurnCollator, transcripts: list[Transcript]
) -> None:
    batch = collator(transcripts)
    merge = collator.processor.image_processor.merge_size
    per_image = batch["image_grid_thw"].prod(dim=1) // (merge * merge)
    assert len(per_image) == sum(len(t.images) for t in transcripts)
    assert int((batch["input_ids"] == collator.image_token_id).sum()) == int(per_image.sum())
    assert batch["pixel_values"].shape[0] == int(batch["image_grid_thw"].prod(dim=1).sum())
    assert torch.equal(
        batch["mm_token_type_ids"], (batch["input_ids"] == collator.image_token_id).long()
    )
    shorter = int(batch["attention_mask"].sum(dim=1).argmin())
    padding = batch["attention_mask"][shorter] == 0
    assert padding.any() and (batch["labels"][shorter][padding] == -100).all()


def test_a_transcript_whose_images_do_not_match_is_refused(
    collator: MultiTurnCollator, transcripts: list[Transcript]
) -> None:
    broken = transcripts[0].model_copy(update={"images": transcripts[0].images[:-1]})
    with pytest.raises(ValueError, match="out of step"):
        collator([broken])
