"""The perception warm-up: answers follow the rendered pixel counts, seeds stay apart."""

from __future__ import annotations

from collections import Counter

import pytest

from agents.records import Sample
from common.errors import UserError
from scenes.procedural import write_scene
from scenes.schema import Scene
from tools.sandbox import make_sandbox
from training.warmup import (
    CATEGORIES,
    PERCEPTION_FORMS,
    WarmupConfig,
    build_warmup_samples,
    perception_proposals,
)

CONFIG = WarmupConfig(
    num_scenes=2, frames=8, width=64, height=48, question_frames=3, questions_per_scene=9
)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[Scene]:
    root = tmp_path_factory.mktemp("warmup-scenes")
    return [
        Scene.load(write_scene(seed, root / f"proc_{seed}", CONFIG.frames, 64, 48))
        for seed in range(CONFIG.seed, CONFIG.seed + CONFIG.num_scenes)
    ]


def category_pixels(scene: Scene, frame_index: int, category: str) -> int:
    frame = next(f for f in scene.frames if f.index == frame_index)
    ids = {o.instance_id for o in scene.objects if o.category == category}
    return sum(n for instance, n in frame.visible.items() if instance in ids)


def expected_answer(sample: Sample, scene: Scene) -> str:
    """The answer recomputed here from Frame.visible, independently of the module's code."""
    proposal = sample.proposal
    frames = proposal.frame_indices or []
    threshold = max(int(64 * 48 * CONFIG.min_visible_fraction), 1)
    if proposal.question_type == "perception_frames_showing":
        category = proposal.question.split(" see a ")[1].rstrip("?")
        return str(sum(category_pixels(scene, i, category) >= threshold for i in frames))
    names = {o.partition(". ")[2]: o.partition(". ")[0] for o in proposal.options}
    if proposal.question_type == "perception_seen_object":
        seen = [n for n in names if any(category_pixels(scene, i, n) >= threshold for i in frames)]
        assert len(seen) == 1
        return names[seen[0]]
    totals = {n: sum(category_pixels(scene, i, n) for i in frames) for n in names}
    return names[max(totals, key=totals.__getitem__)]


def test_answers_follow_the_rendered_pixel_counts(scenes: list[Scene]) -> None:
    with make_sandbox("local", workers=1) as sandbox:
        samples = build_warmup_samples(scenes, CONFIG, sandbox)
    by_id = {scene.id: scene for scene in scenes}
    assert len(samples) >= 0.8 * CONFIG.num_scenes * CONFIG.questions_per_scene
    assert set(Counter(s.proposal.question_type for s in samples)) == set(PERCEPTION_FORMS)
    for sample in samples:
        proposal = sample.proposal
        assert sample.verdict == "accepted"
        assert len(proposal.frame_indices or []) == CONFIG.question_frames
        assert all(o.partition(". ")[2] in CATEGORIES for o in proposal.options)
        assert sample.ground_truth == expected_answer(sample, by_id[proposal.scene_id])


def test_questions_are_deterministic_and_distinct(scenes: list[Scene]) -> None:
    first = perception_proposals(scenes, CONFIG)
    assert first == perception_proposals(scenes, CONFIG)
    assert len({p.fingerprint() for p in first}) == len(first)


def test_held_out_seeds_and_unknown_forms_are_refused() -> None:
    with pytest.raises(UserError, match="held-out"):
        WarmupConfig(seed=999_990, num_scenes=8).check()
    with pytest.raises(UserError, match="forms"):
        WarmupConfig(forms=["name_the_colour"]).check()


def test_programs_are_stored_with_their_constants(scenes: list[Scene]) -> None:
    proposal = perception_proposals(scenes, CONFIG)[0]
    assert "def solve(scene)" in proposal.program
    assert f"FRAMES = {proposal.frame_indices!r}" in proposal.program
