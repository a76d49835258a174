"""Every task's answers on the hand-built demo room, run through the real sandbox.

Each proposal's ground truth (from executing its program in the local sandbox) is compared
with an answer computed here independently: hand-known numbers for counts, sizes and the
room, and short closed-form references (axis-aligned boxes, atan2) for the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from agents.execution import execute
from agents.proposers import ProgrammaticProposer
from agents.records import Sample
from agents.tasks import TASKS
from agents.tasks.base import program_constants
from agents.tasks.demo_scene import demo_scene
from scenes.schema import Scene
from tools.sandbox import make_sandbox

# Known by hand from the room's layout (agents/tasks/demo_scene.py).
SIZES_CM = {"bed": 200, "sofa": 200, "tv": 120, "table": 120, "lamp": 160, "plant": 100}
SIZES_CM["wardrobe"] = 200
COUNTS = {"chair": 3}
ROOM_M2 = 30.0


@pytest.fixture(scope="module")
def scene() -> Scene:
    return demo_scene()


@pytest.fixture(scope="module")
def samples(scene: Scene) -> list[Sample]:
    proposer = ProgrammaticProposer()
    quotas = dict.fromkeys(proposer.arms(), 3)
    batch = proposer.propose([scene], quotas)
    with make_sandbox("local", workers=2) as sandbox:
        return execute(batch.proposals, {scene.id: scene}, sandbox)


def _box(scene: Scene, category: str) -> tuple[np.ndarray, np.ndarray]:
    (obj,) = [o for o in scene.objects if o.category == category]
    return obj.box.axis_aligned_bounds()


def _box_gap(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    gap = np.maximum(0.0, np.maximum(b[0] - a[1], a[0] - b[1]))
    return float(np.linalg.norm(gap))


def _point_gap(point: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> float:
    return float(np.linalg.norm(np.maximum(0.0, np.maximum(box[0] - point, point - box[1]))))


def _centre(scene: Scene, category: str) -> np.ndarray:
    low, high = _box(scene, category)
    return (low + high)[:2] / 2


def _signed_deg(forward: np.ndarray, target: np.ndarray) -> float:
    cross = forward[0] * target[1] - forward[1] * target[0]
    return math.degrees(math.atan2(cross, float(forward @ target)))


def _direction_label(angle: float, variant: str) -> str:
    left = angle > 0
    if variant == "easy":
        return "left" if left else "right"
    if variant == "medium":
        return "back" if abs(angle) >= 135 else ("left" if left else "right")
    front = "front" if abs(angle) < 90 else "back"
    return f"{front}-{'left' if left else 'right'}"


def _answer_text(sample: Sample) -> str:
    letters = sample.proposal.option_letters
    return sample.proposal.options[letters.index(sample.ground_truth)].partition(". ")[2]


def _by_type(samples: list[Sample], question_type: str) -> Iterator[tuple[Sample, dict]]:
    chosen = [s for s in samples if s.proposal.question_type == question_type]
    assert chosen, f"no {question_type} proposals on the demo room"
    for sample in chosen:
        assert sample.verdict == "pending", (sample.reason, sample.execution_error)
        yield sample, program_constants(sample.proposal.program)


def _numeric_matches(sample: Sample, expected: float) -> None:
    if sample.proposal.answer_kind == "numeric":
        assert float(sample.ground_truth) == pytest.approx(expected, abs=0.051)
        return
    values = [float(o.partition(". ")[2]) for o in sample.proposal.options]
    assert float(_answer_text(sample)) == min(values, key=lambda v: abs(v - expected))


def test_every_task_proposes_and_passes_execution(samples: list[Sample]) -> None:
    types = {s.proposal.question_type for s in samples}
    assert types == set(TASKS)
    assert all(s.verdict == "pending" for s in samples), [
        (s.proposal.question_type, s.execution_error) for s in samples if s.verdict != "pending"
    ]


def test_counting_sizes_and_room_equal_hand_known_values(samples: list[Sample]) -> None:
    for sample, constants in _by_type(samples, "object_counting"):
        _numeric_matches(sample, COUNTS[constants["CATEGORY"]])
    for sample, constants in _by_type(samples, "object_size_estimation"):
        _numeric_matches(sample, SIZES_CM[constants["CATEGORY"]])
    for sample, _ in _by_type(samples, "room_size_estimation"):
        _numeric_matches(sample, ROOM_M2)


def test_abs_distance_equals_box_gap(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "object_abs_distance"):
        expected = _box_gap(_box(scene, c["OBJECT1"]), _box(scene, c["OBJECT2"]))
        _numeric_matches(sample, expected)
        if sample.proposal.answer_kind == "numeric":
            assert sample.executed_value == pytest.approx(expected, abs=1e-6)


def test_bed_to_table_is_forty_centimetres(scene: Scene) -> None:
    assert _box_gap(_box(scene, "bed"), _box(scene, "table")) == pytest.approx(0.4)


def test_relative_distance_picks_the_closest_category(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "object_rel_distance"):
        primary = _box(scene, c["PRIMARY"])
        gaps = {
            choice: min(
                _box_gap(primary, o.box.axis_aligned_bounds())
                for o in scene.objects
                if o.category == choice
            )
            for choice in c["CHOICES"]
        }
        assert _answer_text(sample) == min(gaps, key=gaps.__getitem__)


def test_relative_directions_match_atan2(samples: list[Sample], scene: Scene) -> None:
    for variant in ("easy", "medium", "hard"):
        for sample, c in _by_type(samples, f"object_rel_direction_{variant}"):
            origin = _centre(scene, c["STANDING"])
            angle = _signed_deg(
                _centre(scene, c["FACING"]) - origin, _centre(scene, c["QUERY"]) - origin
            )
            assert _answer_text(sample) == _direction_label(angle, variant)


def test_route_turns_match_headings(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "route_planning"):
        stops = [_centre(scene, name) for name in c["ROUTE"]]
        turns = []
        for a, b, following in zip(stops, stops[1:], stops[2:], strict=False):
            angle = _signed_deg(b - a, following - b)
            word = "Back" if abs(angle) >= 135 else ("Left" if angle > 0 else "Right")
            turns.append(f"Turn {word}")
        assert _answer_text(sample) == ", ".join(turns)
        assert sample.proposal.question.count("[please fill in]") == len(turns) + 1  # + note


def test_appearance_order_matches_first_frames(samples: list[Sample], scene: Scene) -> None:
    frames = {f.index: f for f in scene.frames}
    for sample, c in _by_type(samples, "obj_appearance_order"):
        ids = {
            name: [o.instance_id for o in scene.objects if o.category == name]
            for name in c["CATEGORIES"]
        }
        threshold = max(int(320 * 240 * 0.001), 1)
        first = {
            name: next(
                i
                for i in c["FRAMES"]
                if any(frames[i].visible.get(k, 0) >= threshold for k in ids[name])
            )
            for name in c["CATEGORIES"]
        }
        assert _answer_text(sample) == ", ".join(sorted(first, key=first.__getitem__))
        assert set(c["FRAMES"]) <= set(frames) and sample.proposal.frame_indices == c["FRAMES"]


def _forward(scene: Scene, index: int) -> np.ndarray:
    return np.asarray(scene.frames[index].camera_to_world)[:2, 2]


def test_camera_rotation_matches_headings(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "camera_rotation"):
        yaw = _signed_deg(_forward(scene, c["FIRST"]), _forward(scene, c["SECOND"]))
        if c["ANGLES"]:
            expected = min(c["ANGLES"], key=lambda text: abs(c["ANGLES"][text] - yaw))
        else:
            expected = "left" if yaw > 0 else "right"
        assert _answer_text(sample) == expected
        assert sample.proposal.frame_indices == [c["FIRST"], c["SECOND"]]


def test_camera_movement_matches_displacement(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "camera_movement"):
        first, second = scene.frames[c["FIRST"]], scene.frames[c["SECOND"]]
        forward = _forward(scene, c["FIRST"])
        forward = forward / np.linalg.norm(forward)
        left = np.array([-forward[1], forward[0]])
        move = np.asarray(second.camera_to_world)[:3, 3] - np.asarray(first.camera_to_world)[:3, 3]
        parts = {"forward": move[:2] @ forward, "left": move[:2] @ left}
        name, value = max(parts.items(), key=lambda item: abs(item[1]))
        expected = name if value > 0 else {"forward": "backward", "left": "right"}[name]
        assert _answer_text(sample) == expected


def test_left_of_camera_matches_cross_product(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "object_left_of_camera"):
        pose = np.asarray(scene.frames[c["FRAME"]].camera_to_world)
        position, forward = pose[:2, 3], pose[:2, 2]
        on_left = [
            name
            for name in c["CHOICES"]
            if _signed_deg(forward, _centre(scene, name) - position) > 0
        ]
        assert [_answer_text(sample)] == on_left


def test_height_and_camera_distance_comparisons(samples: list[Sample], scene: Scene) -> None:
    for sample, c in _by_type(samples, "object_height_comparison"):
        heights = {name: float(np.ptp(np.vstack(_box(scene, name))[:, 2])) for name in c["CHOICES"]}
        assert _answer_text(sample) == max(heights, key=heights.__getitem__)
    for sample, c in _by_type(samples, "object_camera_rel_distance"):
        position = np.asarray(scene.frames[c["FRAME"]].camera_to_world)[:3, 3]
        gaps = {name: _point_gap(position, _box(scene, name)) for name in c["CHOICES"]}
        assert _answer_text(sample) == min(gaps, key=gaps.__getitem__)
        assert sample.proposal.frame_indices == [c["FRAME"]]


def test_named_objects_are_visible_in_the_solver_frames(
    samples: list[Sample], scene: Scene
) -> None:
    frames = {f.index: f for f in scene.frames}
    for sample in samples:
        shown = sample.proposal.frame_indices
        assert shown, sample.proposal.question_type
        for instance in sample.proposal.referenced_instances:
            assert any(frames[i].visible.get(instance, 0) >= 76 for i in shown), (
                sample.proposal.question_type,
                instance,
            )
