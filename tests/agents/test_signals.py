"""Each difficulty signal on the tiny model against a brute-force reference.

The reference scores every candidate reply on its own with the model's plain forward
(float64 log-softmax over full logits); the signals batch, share frame prefixes and
score only the rows they need, which must not change the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from PIL import Image
from transformers import PreTrainedModel, ProcessorMixin

from agents.records import Proposal, Sample
from agents.signals import SIGNALS, make_signal
from agents.signals.expected_score import candidate_grid
from agents.solver.encoding import scoring_text
from agents.solver.items import SolverItem
from agents.solver.solver import Solver
from common.errors import UserError
from evaluation.metrics import mean_relative_accuracy
from training.rewards import score_answer

TOLERANCE = 1e-5


def reply_log_prob(
    model: PreTrainedModel, processor: ProcessorMixin, item: SolverItem, images: list[Image.Image]
) -> float:
    """log P(whole reply: answer tokens and end of turn), one unbatched forward."""
    text = scoring_text(processor, item, len(images), include_end_of_turn=True)
    inputs = processor(text=[text.full_text], images=[images], return_tensors="pt")
    with torch.no_grad():
        log_probs = torch.log_softmax(model(**inputs).logits[0].double(), dim=-1)
    start = inputs["input_ids"].shape[1] - len(text.reply_ids)
    return sum(float(log_probs[start - 1 + i, t]) for i, t in enumerate(text.scored_ids))


def letter_distribution(
    model: PreTrainedModel, processor: ProcessorMixin, item: SolverItem, images: list[Image.Image]
) -> dict[str, float]:
    text = scoring_text(processor, item, len(images))
    inputs = processor(text=[text.full_text], images=[images], return_tensors="pt")
    with torch.no_grad():
        log_probs = torch.log_softmax(model(**inputs).logits[0].double(), dim=-1)
    start = inputs["input_ids"].shape[1] - len(text.reply_ids)
    probs = torch.softmax(log_probs[start - 1, list(text.letter_ids)], dim=-1).tolist()
    return dict(zip(text.letters, probs, strict=True))


@pytest.fixture
def items(frames_of: Callable[[int, int], list[Image.Image]]) -> list[SolverItem]:
    two, three = frames_of(5, 2), frames_of(6, 3)
    return [
        SolverItem.from_images("How many chair(s) are here?", two, "numeric", ground_truth="3"),
        SolverItem.from_images(
            "Which is closer to the door?",
            two,
            "multiple_choice",
            options=["A. chair", "B. table", "C. sofa"],
            ground_truth="B",
        ),
        SolverItem.from_images("How long is the sofa (m)?", three, "numeric", ground_truth="1.8"),
    ]


def test_candidate_grid_is_log_spaced_formatted_like_the_truth_and_holds_it() -> None:
    grid = candidate_grid("1.8", size=21, span=1.0)
    assert "1.8" in grid and all(len(c.split(".")[1]) == 1 for c in grid)
    assert float(grid[0]) == pytest.approx(0.2) and float(grid[-1]) == pytest.approx(18.0)
    assert len(set(grid)) == len(grid)
    counts = candidate_grid("3", size=41)
    assert counts == [str(n) for n in sorted({int(c) for c in counts})]
    assert "0" not in counts and "30" in counts
    with pytest.raises(ValueError, match="positive"):
        candidate_grid("0")


def test_expected_score_matches_scoring_every_candidate_alone(
    make_solver: Callable[..., Solver],
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
    items: list[SolverItem],
) -> None:
    model, processor = tiny_model
    solver = make_solver(share_prefix=True, questions_per_forward=7)
    signal = make_signal("expected_score", {"grid_size": 9})
    values = signal.score(solver, items)
    assert [v.sample_id for v in values] == [i.sample_id for i in items]
    for item, value in zip(items, values, strict=True):
        images = solver.frames.for_item(item, False)
        if item.answer_kind == "multiple_choice":
            reference = letter_distribution(model, processor, item, images)["B"]
            assert value.p == pytest.approx(reference, abs=TOLERANCE)
            assert value.learnability == pytest.approx(reference * (1 - reference), abs=TOLERANCE)
            continue
        grid = candidate_grid(str(item.ground_truth), size=9)
        log_probs = [
            reply_log_prob(model, processor, item.model_copy(update={"ground_truth": c}), images)
            for c in grid
        ]
        top = max(log_probs)
        weights = [math.exp(lp - top) for lp in log_probs]
        q = [w / sum(weights) for w in weights]
        truth = float(str(item.ground_truth))
        mra = [mean_relative_accuracy(float(c), truth) for c in grid]
        mean = sum(a * b for a, b in zip(q, mra, strict=True))
        variance = sum(a * (b - mean) ** 2 for a, b in zip(q, mra, strict=True))
        assert value.p == pytest.approx(mean, abs=TOLERANCE)
        assert value.learnability == pytest.approx(variance, abs=TOLERANCE)
        assert 0 < value.p < 1  # an untrained model spreads its mass: not the token mean's ~0


def test_token_confidence_is_the_solvers_confidence(
    make_solver: Callable[..., Solver], items: list[SolverItem]
) -> None:
    solver = make_solver()
    values = make_signal("token_confidence").score(solver, items)
    for value, result in zip(values, solver.confidence(items), strict=True):
        assert value.p == result.confidence
        assert value.learnability == pytest.approx(result.confidence * (1 - result.confidence))
        assert value.letter_probs == result.letter_probs


def test_solve_rate_greedy_is_the_answer_path_and_sampling_is_repeatable(
    make_solver: Callable[..., Solver], items: list[SolverItem]
) -> None:
    solver = make_solver(max_new_tokens=4)
    greedy = make_signal("solve_rate", {"samples": 3, "temperature": 0.0}).score(solver, items)
    answers = solver.answer(items)
    for item, value, answer in zip(items, greedy, answers, strict=True):
        assert value.detail["replies"] == [answer.reply] * 3
        expected = score_answer(answer.reply, str(item.ground_truth), item.answer_kind)
        assert value.p == pytest.approx(expected) and value.learnability == pytest.approx(0.0)
    sampler = make_signal("solve_rate", {"samples": 5, "seed": 3})
    first, again = sampler.score(solver, items), sampler.score(solver, items)
    for item, value, repeat in zip(items, first, again, strict=True):
        scores = [
            score_answer(r, str(item.ground_truth), item.answer_kind)
            for r in value.detail["replies"]
        ]
        assert len(scores) == 5 and value.detail == repeat.detail
        mean = sum(scores) / 5
        assert value.p == pytest.approx(mean)
        assert value.learnability == pytest.approx(sum((s - mean) ** 2 for s in scores) / 5)


def test_learning_progress_is_the_ema_of_probe_score_changes(
    make_solver: Callable[..., Solver], items: list[SolverItem]
) -> None:
    solver = make_solver()
    signal = make_signal("learning_progress", {"smoothing": 0.5, "grid_size": 9})
    arms = [("counting", 1), ("direction", 1), ("counting", 1)]
    means = signal.probe_means(solver, items, arms)
    reference = make_signal("expected_score", {"grid_size": 9}).score(solver, items)
    assert means[("counting", 1)] == pytest.approx((reference[0].p + reference[2].p) / 2)
    assert means[("direction", 1)] == pytest.approx(reference[1].p)
    rounds = [{("a", 1): 0.2}, {("a", 1): 0.5, ("b", 1): 0.1}, {("a", 1): 0.4, ("b", 1): 0.1}]
    progress = signal.progress(rounds)
    assert progress[("a", 1)] == pytest.approx(0.5 * 0.3 + 0.5 * 0.1)
    assert progress[("b", 1)] == pytest.approx(0.0)
    assert signal.progress(rounds[:1]) == {}


def test_signal_value_lands_on_the_sample_and_survives_parquet(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from agents.sample_io import read_samples, write_samples
    from agents.signals import SignalValue

    proposal = Proposal(
        scene_id="room-0001",
        question_type="object_counting",
        question="How many chair(s) are in this room?",
        answer_kind="numeric",
        program="def solve(scene):\n    return 3\n",
        proposer_id="test",
    )
    sample = Sample.from_proposal(proposal).model_copy(update={"ground_truth": "3"})
    scored = SignalValue(sample_id=sample.sample_id, p=0.4, learnability=0.2).apply_to(sample)
    path = write_samples([scored], tmp_path / "s.parquet")
    back = read_samples(path)[0]
    assert (back.confidence, back.learnability) == (0.4, 0.2)


def test_unknown_signal_or_setting_is_a_user_error_naming_the_choices() -> None:
    assert set(SIGNALS) == {"token_confidence", "expected_score", "solve_rate", "learning_progress"}
    with pytest.raises(UserError, match="expected_score"):
        make_signal("entropy")
    with pytest.raises(UserError, match="samples"):
        make_signal("solve_rate", {"k": 3})
