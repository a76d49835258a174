"""Viewpoint-pair questions (Actial): answers from the sandbox agree with poses computed by
hand, levels 3-5 pick the signed-angle option, and scenes without orbit views fall back to
walkthrough pairs that turn 20-100 degrees."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import numpy as np
import pytest

import tools.geometry as g
from agents.execution import execute
from agents.records import Proposal
from agents.tasks import TASKS, CannotPose, TaskContext
from agents.tasks.viewpoint_pairs import PAIR_YAW_DEG
from scenes.procedural import generate_scene
from scenes.procedural.orbit import is_orbit_target
from scenes.procedural.trajectory import look_pose
from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject
from tools.sandbox import make_sandbox

INTRINSICS = CameraIntrinsics(width=100, height=100, fx=50, fy=50, cx=50, cy=50)
SOFA_CENTRE = (5.0, 5.0, 0.4)
EYE = 1.5


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    with make_sandbox("local", workers=2) as runner:
        yield runner


def _looking_at(position: tuple[float, float], extra_yaw_deg: float) -> tuple:
    """A pose at eye height aiming at the sofa's centre, turned a further `extra_yaw_deg` left."""
    dx, dy = SOFA_CENTRE[0] - position[0], SOFA_CENTRE[1] - position[1]
    yaw = math.atan2(dy, dx) + math.radians(extra_yaw_deg)
    pose = look_pose(np.array([*position, EYE]), yaw, 0.0, 0.0)
    return (*(tuple(float(v) for v in row) for row in pose[:3]), (0.0, 0.0, 0.0, 1.0))


def _hand_scene() -> Scene:
    """A sofa facing +y; camera 1 two metres in front of it; camera 2 orbits 60 degrees
    counter-clockwise (seen from above) and looks 10 degrees left of the sofa.

    By hand: camera 1 faces -y, so its right is -x; camera 2 sits at (5 - 1.732, 6): it moved
    1.732 m to camera 1's right and (the sofa's left being -x) 1.732 m to the sofa's left.
    Camera 1 heads -90 deg, camera 2 heads atan2(-1, 1.732) + 10 = -20 deg: a 70 deg left turn.
    """
    azimuth = math.radians(90 + 60)
    second = (SOFA_CENTRE[0] + 2 * math.cos(azimuth), SOFA_CENTRE[1] + 2 * math.sin(azimuth))
    views = [((5.0, 1.0), 0.0, "walkthrough"), ((5.0, 7.0), 0.0, "orbit"), (second, 10.0, "orbit")]
    frames = tuple(
        Frame(
            index=i,
            kind=kind,
            timestamp=0.0,
            intrinsics=INTRINSICS,
            camera_to_world=_looking_at(xy, extra),
            image_path=f"frames/{i:04d}.png",
            visible={1: 3000},
        )
        for i, (xy, extra, kind) in enumerate(views)
    )
    sofa = SceneObject(
        instance_id=1, category="sofa", box=OrientedBox(center=SOFA_CENTRE, extents=(2, 0.9, 0.8))
    )
    room = Room(floor_polygon=((0, 0), (10, 0), (10, 10), (0, 10)), height=2.6, area=100.0)
    return Scene(id="hand", source="procedural", room=room, objects=(sofa,), frames=frames)


def _answer(proposal: Proposal, letter: str | None) -> str:
    return next(o.partition(". ")[2] for o in proposal.options if o.startswith(f"{letter}."))


def _propose(scene: Scene, task: str, level: int, seed: int = 0) -> Proposal:
    ctx = TaskContext.build(scene, rng=random.Random(seed), num_solver_frames=1)
    return TASKS[task].propose(ctx, level)


@pytest.mark.parametrize(
    ("task", "level", "expected"),
    [
        ("viewpoint_camera_translation", 2, "right"),
        ("viewpoint_object_translation", 2, "left"),
        ("viewpoint_camera_rotation", 2, "left"),
        ("viewpoint_camera_translation", 4, "right, about 60 degrees"),
        ("viewpoint_object_translation", 4, "left, about 60 degrees"),
        ("viewpoint_camera_rotation", 3, "left, about 80 degrees"),
    ],
)
def test_orbit_pair_answers_match_hand_computed_poses(
    sandbox: object, task: str, level: int, expected: str
) -> None:
    scene = _hand_scene()
    proposal = _propose(scene, task, level)
    assert proposal.frame_indices == [1, 2]
    assert proposal.referenced_instances == [1]
    assert any(o.endswith("no movement") or o.endswith("no rotation") for o in proposal.options)
    (sample,) = execute([proposal], {scene.id: scene}, sandbox)
    assert sample.execution_error is None
    assert _answer(proposal, sample.ground_truth) == expected


def test_hand_poses_through_the_geometry_library() -> None:
    view = g.SceneView(_hand_scene())
    motion = g.camera_motion(view.frame(1), view.frame(2))
    assert motion.left_m == pytest.approx(-math.sqrt(3), abs=1e-6)
    assert motion.yaw_deg == pytest.approx(70.0, abs=1e-6)
    assert [f.index for f in view.frames] == [0]  # orbit views are not part of the video
    assert [f.index for f in view.orbit_frames] == [1, 2]


def test_a_turn_between_two_options_is_not_asked() -> None:
    """70 deg is 10 deg off the 60/80 options of level 5's 20 deg grid: too close to call."""
    with pytest.raises(CannotPose):
        _propose(_hand_scene(), "viewpoint_camera_rotation", 5)


def test_small_moves_are_ambiguous_in_the_program(sandbox: object) -> None:
    """Move the second camera 5 cm: the program refuses to call a side."""
    scene = _hand_scene()
    proposal = _propose(scene, "viewpoint_camera_translation", 2)
    frames = list(scene.frames)
    pose = np.asarray(frames[1].camera_to_world)
    pose[0, 3] -= 0.05
    frames[2] = frames[2].model_copy(update={"camera_to_world": tuple(map(tuple, pose))})
    nudged = scene.model_copy(update={"frames": tuple(frames)})
    (sample,) = execute([proposal], {scene.id: nudged}, sandbox)
    assert sample.ground_truth is None and sample.verdict == "rejected"


def test_object_perspective_needs_a_known_front() -> None:
    scene = _hand_scene().model_copy(update={"source": "scannet"})
    with pytest.raises(CannotPose, match="no_object_front"):
        _propose(scene, "viewpoint_object_translation", 1)


def _orbit_geometry(
    scene: Scene, first: Frame, second: Frame, obj: SceneObject
) -> tuple[float, float] | None:
    """(radius, angle) when both cameras stand equally far from `obj`, which both show and
    which is a unique object with a front; else None."""
    if not is_orbit_target(scene, obj) or not (
        first.visible.get(obj.instance_id) and second.visible.get(obj.instance_id)
    ):
        return None
    centre = np.asarray(obj.box.center)
    offsets = [f.position[:2] - centre[:2] for f in (first, second)]
    radii = [float(np.linalg.norm(o)) for o in offsets]
    if abs(radii[0] - radii[1]) > 1e-3:
        return None
    cosine = float(offsets[0] @ offsets[1]) / (radii[0] * radii[1])
    return radii[0], math.degrees(math.acos(min(1.0, cosine)))


@pytest.fixture(scope="module")
def rendered() -> Scene:
    return generate_scene(0, frames=12, width=96, height=72, orbit_pairs=2).scene


def test_rendered_orbit_pairs_follow_the_recipe(rendered: Scene) -> None:
    walkthrough, orbit = rendered.walkthrough_frames, rendered.orbit_frames
    assert len(orbit) == 4 and [f.index for f in orbit] == list(range(12, 16))
    view = g.SceneView(rendered)
    for first, second in ((orbit[0], orbit[1]), (orbit[2], orbit[3])):
        assert abs(first.position[2] - second.position[2]) < 1e-6  # one eye height
        centred = [_orbit_geometry(rendered, first, second, obj) for obj in rendered.objects]
        (radius, angle) = next(c for c in centred if c is not None)  # the object orbited
        assert 1.2 - 1e-3 <= radius <= 3.0 + 1e-3
        assert 20 - 1e-3 <= angle <= 100 + 1e-3
        yaw = g.camera_motion(view.frame(first.index), view.frame(second.index)).yaw_deg
        assert abs(yaw) != pytest.approx(angle, abs=0.5)  # look-at jitter
    assert all(f.kind == "walkthrough" for f in walkthrough)


def test_tasks_on_rendered_orbits_use_orbit_frames(rendered: Scene, sandbox: object) -> None:
    proposals = [
        _propose(rendered, name, level=1, seed=seed)
        for name in ("viewpoint_camera_translation", "viewpoint_camera_rotation")
        for seed in range(3)
    ]
    orbit = {f.index for f in rendered.orbit_frames}
    assert all(set(p.frame_indices or []) <= orbit for p in proposals)
    samples = execute(proposals, {rendered.id: rendered}, sandbox)
    assert all(s.ground_truth is not None for s in samples)


def test_scenes_without_orbits_fall_back_to_walkthrough_pairs(sandbox: object) -> None:
    scene = generate_scene(1, frames=16, width=96, height=72).scene
    assert not scene.orbit_frames
    view = g.SceneView(scene)
    proposal = _propose(scene, "viewpoint_camera_rotation", 2)
    first, second = proposal.frame_indices or []
    assert first < second and proposal.difficulty["orbit_pair"] == 0
    yaw = abs(g.camera_motion(view.frame(first), view.frame(second)).yaw_deg)
    assert PAIR_YAW_DEG[0] <= yaw <= PAIR_YAW_DEG[1]
    (sample,) = execute([proposal], {scene.id: scene}, sandbox)
    assert sample.ground_truth is not None
