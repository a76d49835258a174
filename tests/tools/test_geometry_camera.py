"""Camera motion between frames against constructed poses and scipy rotations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tools.geometry import Ambiguous, SceneView, camera_heading, camera_motion, camera_pitch


def frames(make_scene_dict, make_frame_dict, *specs) -> SceneView:
    return SceneView(
        make_scene_dict(frames=[make_frame_dict(i, *spec) for i, spec in enumerate(specs)])
    )


def test_turn_left_and_walk(make_scene_dict, make_frame_dict) -> None:
    # Facing +y (heading 90), then 30 degrees left, having walked 1 m ahead, 0.5 m right, 0.2 m up.
    view = frames(make_scene_dict, make_frame_dict, ((1, 1, 1.5), 90.0), ((1.5, 2, 1.7), 120.0))
    a, b = view.frame(0), view.frame(1)
    assert camera_heading(a) == pytest.approx(90.0)
    motion = camera_motion(a, b)
    assert motion.yaw_deg == pytest.approx(30.0)
    assert motion.turn_direction() == "left"
    assert (motion.forward_m, motion.left_m, motion.up_m) == pytest.approx((1.0, -0.5, 0.2))
    assert motion.translation_camera == pytest.approx(
        (0.5, -0.2, 1.0)
    )  # x right, y down, z forward
    assert motion.rotation_deg == pytest.approx(30.0)
    assert motion.distance_m == pytest.approx(math.sqrt(1.29))
    assert motion.main_direction() == "forward"
    back = camera_motion(b, a)
    assert back.yaw_deg == pytest.approx(-30.0) and back.turn_direction() == "right"


def test_pitch_and_wraparound(make_scene_dict, make_frame_dict) -> None:
    view = frames(
        make_scene_dict,
        make_frame_dict,
        ((0, 0, 1.5), 170.0, -20.0),
        ((0, -0.8, 1.5), -160.0, 10.0),
        ((0, 0, 1.5), 170.0, -90.0),
    )
    a, b = view.frame(0), view.frame(1)
    assert camera_pitch(a) == pytest.approx(-20.0)
    motion = camera_motion(a, b)
    assert motion.yaw_deg == pytest.approx(30.0)  # across the +-180 seam
    assert motion.pitch_deg == pytest.approx(30.0)
    assert motion.main_direction() == "left"  # heading 170: -y is to the camera's left
    # Looking straight down: the heading comes from the image's up direction.
    assert camera_heading(view.frame(2)) == pytest.approx(170.0)


def test_small_or_mixed_motion_is_ambiguous(make_scene_dict, make_frame_dict) -> None:
    view = frames(make_scene_dict, make_frame_dict, ((0, 0, 1.5), 0.0), ((0.5, 0.45, 1.5), 2.0))
    motion = camera_motion(view.frame(0), view.frame(1))
    with pytest.raises(Ambiguous):
        motion.turn_direction()
    with pytest.raises(Ambiguous):
        motion.main_direction()
    assert motion.main_direction(min_ratio=1.05) == "forward"


def test_random_poses_against_scipy_rotations(make_scene_dict, make_frame_dict) -> None:
    rng = np.random.default_rng(9)
    for _ in range(200):
        yaw_a, yaw_b = rng.uniform(-180, 180, 2)
        pitch_a, pitch_b = rng.uniform(-60, 60, 2)
        pos_a, pos_b = rng.uniform(-3, 3, (2, 3))
        view = frames(
            make_scene_dict, make_frame_dict, (pos_a, yaw_a, pitch_a), (pos_b, yaw_b, pitch_b)
        )
        a, b = view.frame(0), view.frame(1)
        motion = camera_motion(a, b)
        assert motion.yaw_deg == pytest.approx((yaw_b - yaw_a + 180) % 360 - 180, abs=1e-9)
        assert motion.pitch_deg == pytest.approx(pitch_b - pitch_a, abs=1e-9)
        relative = Rotation.from_matrix(a.rotation.T @ b.rotation)
        assert motion.rotation_deg == pytest.approx(np.degrees(relative.magnitude()), abs=1e-6)
        heading = np.radians(yaw_a)
        forward, left = (
            np.array([math.cos(heading), math.sin(heading)]),
            np.array([-math.sin(heading), math.cos(heading)]),
        )
        delta = pos_b - pos_a
        assert (motion.forward_m, motion.left_m, motion.up_m) == pytest.approx(
            (delta[:2] @ forward, delta[:2] @ left, delta[2])
        )
        assert np.allclose(a.rotation @ np.array(motion.translation_camera), delta)
