"""Confidence equals a plain reference computation, however items are batched or shared.

The reference scores one sample at a time with the model's own forward (its own position
ids), takes float64 log-softmax over the full logits, and reads the answer tokens' log
probabilities. The solver batches, pads, shares frame prefixes and gathers only the rows
it needs; all of that must leave the numbers unchanged (1e-5 on the float32 tiny model).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, PreTrainedModel, ProcessorMixin

from agents.records import Proposal, Sample
from agents.solver.config import SolverConfig
from agents.solver.encoding import scoring_text
from agents.solver.items import ConfidenceResult, SolverItem
from agents.solver.solver import Solver

TOLERANCE = 1e-5


def reference(
    model: PreTrainedModel,
    processor: ProcessorMixin,
    item: SolverItem,
    images: list[Image.Image],
    include_end_of_turn: bool = False,
) -> tuple[list[float], dict[str, float] | None]:
    """Token log-probs and letter distribution for one item, the straightforward way."""
    text = scoring_text(processor, item, len(images), include_end_of_turn)
    inputs = processor(
        text=[text.full_text], images=[images] if images else None, return_tensors="pt"
    )
    with torch.no_grad():
        logits = model(**inputs).logits[0].double()
    log_probs = torch.log_softmax(logits, dim=-1)
    start = inputs["input_ids"].shape[1] - len(text.reply_ids)
    assert inputs["input_ids"][0, start:].tolist() == list(text.reply_ids)
    tokens = [float(log_probs[start - 1 + i, t]) for i, t in enumerate(text.scored_ids)]
    letters = None
    if text.letters:
        restricted = torch.softmax(log_probs[start - 1, list(text.letter_ids)], dim=-1)
        letters = dict(zip(text.letters, restricted.tolist(), strict=True))
    return tokens, letters


def mixed_items(frames_of: Callable[[int, int], list[Image.Image]]) -> list[SolverItem]:
    """Multiple choice and numeric, different lengths, 1-3 frames, repeated frame sets."""
    three, two, one = frames_of(1, 3), frames_of(2, 2), frames_of(3, 1)
    return [
        SolverItem.from_images(
            "How many chair(s) are in this room?", three, "numeric", ground_truth="3"
        ),
        SolverItem.from_images(
            "Measuring from the closest point of each object, which of these objects is closest to the bed?",
            three,
            "multiple_choice",
            options=["A. chair", "B. table", "C. lamp"],
            ground_truth="B",
        ),
        SolverItem.from_images(
            "What is the distance between the sofa and the tv (in meters)?",
            two,
            "numeric",
            ground_truth="12.5",
        ),
        SolverItem.from_images(
            "Which of these is farthest from the door?",
            three,
            "multiple_choice",
            options=["A. sink", "B. bed", "C. stove", "D. rug"],
            ground_truth="D",
        ),
        SolverItem.from_images(
            "What is the size of this room (in square meters)?", one, "numeric", ground_truth="21"
        ),
        SolverItem.from_images(
            "Which object appears first in the video?",
            two,
            "multiple_choice",
            options=["A. lamp", "B. piano"],
            ground_truth="A",
        ),
    ]


def assert_matches_reference(
    results: list[ConfidenceResult],
    items: list[SolverItem],
    solver: Solver,
    blind: bool = False,
) -> float:
    """Checks every item against the reference; returns the largest deviation seen."""
    worst = 0.0
    for result, item in zip(results, items, strict=True):
        images = [] if blind else solver.frames.load(item)
        tokens, letters = reference(
            solver.model, solver.processor, item, images, solver.config.include_end_of_turn
        )
        assert len(result.token_log_probs) == len(tokens)
        expected_confidence = math.exp(sum(tokens) / len(tokens))
        deviations = [abs(a - b) for a, b in zip(result.token_log_probs, tokens, strict=True)]
        deviations.append(abs(result.confidence - expected_confidence))
        if letters is not None:
            assert result.letter_probs is not None
            assert list(result.letter_probs) == list(letters)
            assert math.isclose(sum(result.letter_probs.values()), 1.0, abs_tol=1e-9)
            deviations += [abs(result.letter_probs[k] - letters[k]) for k in letters]
        else:
            assert result.letter_probs is None
        worst = max(worst, *deviations)
    assert worst < TOLERANCE, f"largest deviation from the reference: {worst:.2e}"
    return worst


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("share_prefix", [False, True])
def test_confidence_matches_reference(
    make_solver: Callable[..., Solver],
    frames_of: Callable[[int, int], list[Image.Image]],
    padding_side: str,
    share_prefix: bool,
) -> None:
    solver = make_solver(
        padding_side=padding_side, share_prefix=share_prefix, questions_per_forward=2
    )
    items = mixed_items(frames_of)
    results = solver.confidence(items)
    assert_matches_reference(results, items, solver)
    assert all(0.0 < r.confidence < 1.0 for r in results)


def test_shared_prefix_equals_unshared(
    make_solver: Callable[..., Solver], frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    items = mixed_items(frames_of)
    shared = make_solver(share_prefix=True, questions_per_forward=32).confidence(items)
    plain = make_solver(share_prefix=False, batch_size=1).confidence(items)
    for a, b in zip(shared, plain, strict=True):
        assert abs(a.mean_log_prob - b.mean_log_prob) < TOLERANCE
        assert a.sample_id == b.sample_id


def test_end_of_turn_counts_when_configured(
    make_solver: Callable[..., Solver], frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    items = mixed_items(frames_of)[:4]
    solver = make_solver(include_end_of_turn=True)
    with_end = solver.confidence(items)
    answer_only = make_solver().confidence(items)
    for a, b in zip(with_end, answer_only, strict=True):
        assert len(a.token_log_probs) == len(b.token_log_probs) + 1
        assert a.token_log_probs[:-1] == pytest.approx(b.token_log_probs, abs=TOLERANCE)
    assert_matches_reference(with_end, items, solver)


def test_reply_tokens_are_what_the_chat_template_renders(
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
) -> None:
    _, processor = tiny_model
    item = SolverItem(question="How far?", answer_kind="numeric", ground_truth="12.5")
    text = scoring_text(processor, item, num_images=0)
    assert processor.tokenizer.decode(list(text.reply_ids)) == "12.5<|im_end|>\n"
    assert processor.tokenizer.decode(list(text.scored_ids)) == "12.5"
    assert text.full_text.endswith("<|im_start|>assistant\n12.5<|im_end|>\n")


def test_blind_mode_drops_the_frames(
    make_solver: Callable[..., Solver], frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    solver = make_solver()
    items = mixed_items(frames_of)
    blind = solver.confidence(items, blind=True)
    sighted = solver.confidence(items)
    assert all(r.blind for r in blind) and not any(r.blind for r in sighted)
    assert_matches_reference(blind, items, solver, blind=True)
    assert any(
        abs(a.mean_log_prob - b.mean_log_prob) > 1e-3 for a, b in zip(blind, sighted, strict=True)
    )
    with pytest.raises(ValueError, match="not the confidence"):
        blind[0].apply_to(Sample.from_proposal(_proposal()))


def _proposal() -> Proposal:
    return Proposal(
        scene_id="room-0001",
        question_type="object_counting",
        question="How many chair(s) are in this room?",
        answer_kind="numeric",
        program="def solve(scene):\n    return 1\n",
    )


def test_samples_from_a_scene_folder(
    make_solver: Callable[..., Solver], tiny_scene_dir: Path
) -> None:
    questions = ["How many chair(s) are in this room?", "How many table(s) are in this room?"]
    samples = [
        Sample.from_proposal(_proposal().model_copy(update={"question": q})).model_copy(
            update={"ground_truth": str(n + 1)}
        )
        for n, q in enumerate(questions)
    ]
    items = [SolverItem.from_sample(s, tiny_scene_dir, num_frames=4) for s in samples]
    solver = make_solver()
    results = solver.confidence(items)
    assert [r.sample_id for r in results] == [s.sample_id for s in samples]
    assert_matches_reference(results, items, solver)
    scored = results[0].apply_to(samples[0])
    assert scored.confidence == results[0].confidence and scored.letter_probs is None


def test_ground_truth_must_be_an_option_letter(
    make_solver: Callable[..., Solver], frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    item = SolverItem.from_images(
        "Which?", frames_of(1, 1), "multiple_choice", options=["A. x", "B. y"], ground_truth="chair"
    )
    with pytest.raises(ValueError, match="not one of the option letters"):
        make_solver().confidence([item])
    missing = item.model_copy(update={"ground_truth": None})
    with pytest.raises(ValueError, match="has no ground_truth"):
        make_solver().confidence([missing])


def test_qwen25_vl_matches_reference_and_shares_exactly(
    tiny_qwen25_dir: Path, frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    model = AutoModelForImageTextToText.from_pretrained(tiny_qwen25_dir).eval()
    processor = AutoProcessor.from_pretrained(tiny_qwen25_dir)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    items = mixed_items(frames_of)
    for share_prefix, padding_side in [(True, "left"), (False, "right")]:
        config = SolverConfig(
            model=str(tiny_qwen25_dir),
            device="cpu",
            frame_size=64,
            share_prefix=share_prefix,
            padding_side=padding_side,
        )
        solver = Solver(config, model, processor)
        assert_matches_reference(solver.confidence(items), items, solver)
