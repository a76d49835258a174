"""Relative direction (VSI-Bench object_rel_direction) against closed forms and its own formula."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tools.geometry import (
    Ambiguous,
    Object3D,
    SceneView,
    boundary_margin,
    direction_label,
    relative_angle,
    relative_direction,
    relative_direction_or_ambiguous,
)


def vsibench_reference(a: np.ndarray, b: np.ndarray, c: np.ndarray, level: str) -> str:
    """VSI-Bench's published rule: arccos angle, made counter-clockwise by the cross product's
    sign, then binned (hard by 90-degree quadrants, medium at 135/225, easy at 180)."""
    v1, v2 = (b - a)[:2], (c - a)[:2]
    angle = math.acos(np.clip(v1 @ v2 / (np.linalg.norm(v1) * np.linalg.norm(v2)), -1, 1))
    if v1[0] * v2[1] - v1[1] * v2[0] < 0:
        angle = 2 * math.pi - angle
    degrees = math.degrees(angle)
    if level == "hard":
        return ["front-left", "back-left", "back-right", "front-right"][min(int(degrees // 90), 3)]
    if level == "medium":
        return "left" if degrees < 135 else "back" if degrees < 225 else "right"
    return "left" if degrees < 180 else "right"


def test_closed_form_quadrants_facing_plus_y() -> None:
    origin, ahead = (0.0, 0.0, 0.0), (0.0, 2.0, 0.0)
    expected = {
        (-1.0, 1.0): ("front-left", "left", "left", 45.0),
        (1.0, 1.0): ("front-right", "right", "right", -45.0),
        (-1.0, -0.5): ("back-left", "left", "left", 90 + math.degrees(math.atan2(0.5, 1))),
        (0.3, -2.0): ("back-right", "back", "right", -180 + math.degrees(math.atan2(0.3, 2.0))),
        (-0.3, -2.0): ("back-left", "back", "left", 180 - math.degrees(math.atan2(0.3, 2.0))),
    }
    for (x, y), (hard, medium, easy, angle) in expected.items():
        query = (x, y, 5.0)  # height is ignored
        assert relative_direction(origin, ahead, query, "hard").label == hard
        assert relative_direction(origin, ahead, query, "medium").label == medium
        assert relative_direction(origin, ahead, query, "easy").label == easy
        assert relative_angle(origin, ahead, query) == pytest.approx(angle)


def test_random_triples_match_vsibench_rule_and_are_rotation_invariant() -> None:
    rng = np.random.default_rng(5)
    turn = np.radians(73.0)
    rotate = np.array(
        [[math.cos(turn), -math.sin(turn), 0], [math.sin(turn), math.cos(turn), 0], [0, 0, 1]]
    )
    for _ in range(3000):
        a, b, c = rng.uniform(-5, 5, (3, 3))
        for level in ("easy", "medium", "hard"):
            result = relative_direction(a, b, c, level)
            if result.margin_deg > 1e-6:
                assert result.label == vsibench_reference(a, b, c, level)
                assert (
                    relative_direction(rotate @ a, rotate @ b, rotate @ c, level).label
                    == result.label
                )
        # Hard quadrant from the observer frame directly: +y forward, +x right.
        forward = (b - a)[:2] / np.linalg.norm((b - a)[:2])
        right = np.array([forward[1], -forward[0]])
        along, across = (c - a)[:2] @ forward, (c - a)[:2] @ right
        if min(abs(along), abs(across)) > 1e-9:
            expected = ("front" if along > 0 else "back") + ("-right" if across > 0 else "-left")
            assert relative_direction(a, b, c, "hard").label == expected


def test_boundaries_and_margins() -> None:
    assert direction_label(134.9, "medium") == "left" and direction_label(135.0, "medium") == "back"
    assert (
        direction_label(-135.0, "medium") == "right" and direction_label(-135.1, "medium") == "back"
    )
    assert (
        direction_label(0.0, "hard") == "front-left"
        and direction_label(-0.1, "hard") == "front-right"
    )
    assert boundary_margin(100.0, "hard") == pytest.approx(10.0)
    assert boundary_margin(100.0, "medium") == pytest.approx(35.0)
    assert boundary_margin(-170.0, "easy") == pytest.approx(10.0)
    with pytest.raises(ValueError):
        direction_label(10.0, "impossible")


def test_ambiguity_margin_and_corner_rule() -> None:
    origin, ahead = (0.0, 0.0), (0.0, 1.0)
    at_85_deg = (-math.sin(math.radians(85)), math.cos(math.radians(85)))
    with pytest.raises(Ambiguous):
        relative_direction_or_ambiguous(origin, ahead, at_85_deg, "hard")
    assert relative_direction_or_ambiguous(origin, ahead, at_85_deg, "medium") == "left"
    assert (
        relative_direction_or_ambiguous(origin, ahead, at_85_deg, "hard", margin_deg=4)
        == "front-left"
    )
    # A long sofa centred front-left at 45 degrees but reaching across the forward axis.
    sofa = Object3D(1, "sofa", np.array([-1.0, 1.0, 0.4]), np.array([4.0, 0.8, 0.8]), np.eye(3))
    with pytest.raises(Ambiguous):
        relative_direction_or_ambiguous(origin, ahead, sofa, "hard")
    small = Object3D(2, "lamp", np.array([-1.0, 1.0, 0.4]), np.array([0.3, 0.3, 0.8]), np.eye(3))
    assert relative_direction_or_ambiguous(origin, ahead, small, "hard") == "front-left"
    with pytest.raises(Ambiguous):
        relative_direction(origin, origin, small)


def test_real_rooms_unique_triples_match_vsibench_rule(vsibench_scene_dicts) -> None:
    checked = 0
    for data in vsibench_scene_dicts.values():
        view = SceneView(data)
        uniques = [view.unique(c) for c in view.unique_categories()]
        for a, b, c in itertools.permutations(uniques[:5], 3):
            for level in ("easy", "medium", "hard"):
                result = relative_direction(a, b, c, level)
                assert result.label == vsibench_reference(a.center, b.center, c.center, level)
                checked += 1
    assert checked > 1000
