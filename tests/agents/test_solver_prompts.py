"""Prompts match VSI-Bench's layout; frames are sampled and loaded as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.records import Proposal, Sample
from agents.solver.frame_cache import FrameCache
from agents.solver.frames import choose_frames, uniform_frame_indices
from agents.solver.items import SolverItem
from agents.solver.prompts import parse_reply, render_question
from scenes.schema import Scene


def test_multiple_choice_prompt_is_vsibench_layout() -> None:
    text = render_question(
        "Which is closest to the bed?", ["A. chair", "B. table"], "multiple_choice"
    )
    assert text == (
        "These are frames of a video.\n"
        "Which is closest to the bed?\n"
        "Options:\n"
        "A. chair\n"
        "B. table\n"
        "Answer with the option's letter from the given choices directly."
    )


def test_numeric_prompt_is_vsibench_layout() -> None:
    text = render_question("How many chair(s) are in this room? ", [], "numeric")
    assert text == (
        "These are frames of a video.\n"
        "How many chair(s) are in this room?\n"
        "Please answer the question using a single word or phrase."
    )


def test_multiple_choice_without_options_is_refused() -> None:
    with pytest.raises(ValueError, match="needs options"):
        render_question("Which?", [], "multiple_choice")


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [("B.", "B"), ("B. chair", "B"), ("3.5 meters", "3.5"), ("12", "12"), ("", ""), ("7..", "7")],
)
def test_reply_parsing_follows_vsibench(reply: str, parsed: str) -> None:
    assert parse_reply(reply) == parsed


def test_uniform_sampling_spans_the_trajectory() -> None:
    trajectory = list(range(10, 110))
    chosen = uniform_frame_indices(trajectory, 16)
    assert len(chosen) == 16 == len(set(chosen))
    assert chosen[0] == 10 and chosen[-1] == 109
    assert chosen == sorted(chosen)
    assert uniform_frame_indices([3, 4, 5], 16) == [3, 4, 5]


def test_named_frames_win_and_unknown_frames_are_reported(tiny_scene_dir: Path) -> None:
    scene = Scene.load(tiny_scene_dir)
    assert choose_frames(scene, [5, 1], 16) == [5, 1]
    assert choose_frames(scene, None, 3) == [0, 3, 6]
    with pytest.raises(ValueError, match=r"no frames with index \[40\]"):
        choose_frames(scene, [1, 40], 16)


def _sample(scene_id: str, frame_indices: list[int] | None) -> Sample:
    proposal = Proposal(
        scene_id=scene_id,
        question_type="object_rel_distance",
        question="Which object is closest to the table?",
        options=["A. chair", "B. lamp"],
        answer_kind="multiple_choice",
        program="def solve(scene):\n    return 'A'\n",
        frame_indices=frame_indices,
    )
    return Sample.from_proposal(proposal).model_copy(update={"ground_truth": "A"})


def test_item_from_sample_uses_the_proposal_frames_or_a_uniform_sample(
    tiny_scene_dir: Path,
) -> None:
    named = SolverItem.from_sample(_sample("room-0001", [2, 4]), tiny_scene_dir)
    assert named.frame_indices == [2, 4] and named.ground_truth == "A"
    uniform = SolverItem.from_sample(_sample("room-0001", None), tiny_scene_dir, num_frames=4)
    assert uniform.frame_indices == [0, 2, 4, 6]
    images = FrameCache(frame_size=32).load(uniform)
    assert [image.size for image in images] == [(32, 32)] * 4
    assert uniform.frame_set_key() != named.frame_set_key()


def test_item_from_sample_rejects_the_wrong_scene(tiny_scene_dir: Path) -> None:
    with pytest.raises(ValueError, match="is about scene other-room"):
        SolverItem.from_sample(_sample("other-room", None), tiny_scene_dir)


def test_pixel_key_groups_equal_frames(frames_of) -> None:
    first = SolverItem.from_images("Q1?", frames_of(1, 2), "numeric", ground_truth="1")
    same = SolverItem.from_images("Q2?", frames_of(1, 2), "numeric", ground_truth="2")
    other = SolverItem.from_images("Q1?", frames_of(2, 2), "numeric", ground_truth="1")
    assert first.frame_set_key() == same.frame_set_key() != other.frame_set_key()


def test_blind_items_have_no_frames_but_sighted_scoring_needs_them() -> None:
    item = SolverItem(question="How big is the room?", answer_kind="numeric", ground_truth="12")
    cache = FrameCache(frame_size=32)
    assert cache.for_item(item, blind=True) == []
    with pytest.raises(ValueError, match="has no frames"):
        cache.for_item(item, blind=False)
