"""Relative direction of a query object for an observer standing at A and facing B.

Follows VSI-Bench's object_rel_direction questions: positions are box centres projected
on the floor (xy), the observer faces from A's centre towards B's centre, and the angle of
the query is measured counter-clockwise seen from above (+z up), so positive is left.

Levels (VSI-Bench names in brackets), with angles in degrees, counter-clockwise in [0, 360):
- ``easy`` (object_rel_direction_easy): left [0, 180), right [180, 360);
- ``medium``: left [0, 135), back [135, 225), right [225, 360): "back" means turning at
  least 135 degrees to face it;
- ``hard``: front-left [0, 90), back-left [90, 180), back-right [180, 270),
  front-right [270, 360): quadrants of a plane where I face +y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .rules import DIRECTION_MARGIN_DEG
from .scene_view import Ambiguous, Object3D

PointLike = Object3D | Sequence[float] | np.ndarray

# level -> (label bins as (upper bound in ccw degrees, label)), boundaries in ccw degrees.
_BINS: dict[str, tuple[tuple[float, str], ...]] = {
    "easy": ((180.0, "left"), (360.0, "right")),
    "medium": ((135.0, "left"), (225.0, "back"), (360.0, "right")),
    "hard": (
        (90.0, "front-left"),
        (180.0, "back-left"),
        (270.0, "back-right"),
        (360.0, "front-right"),
    ),
}
_BOUNDARIES: dict[str, tuple[float, ...]] = {
    "easy": (0.0, 180.0, 360.0),
    "medium": (0.0, 135.0, 225.0, 360.0),
    "hard": (0.0, 90.0, 180.0, 270.0, 360.0),
}
LEVELS = tuple(_BINS)
DEFAULT_MARGIN_DEG = DIRECTION_MARGIN_DEG  # VSI-Bench drops questions within 10 deg of a boundary


@dataclass(frozen=True)
class Direction:
    """A direction answer with the evidence needed to judge how safe it is."""

    label: str
    angle_deg: float  # signed, (-180, 180], positive = counter-clockwise = to the left
    margin_deg: float  # distance of the angle to the nearest label boundary of its level


def _xy(point: PointLike) -> np.ndarray:
    if isinstance(point, Object3D):
        return np.asarray(point.center[:2], dtype=float)
    return np.asarray(point, dtype=float).reshape(-1)[:2]


def _ccw_angle(standing_at: PointLike, facing: PointLike, query: PointLike) -> float:
    origin = _xy(standing_at)
    forward = _xy(facing) - origin
    target = _xy(query) - origin
    if np.linalg.norm(forward) < 1e-9 or np.linalg.norm(target) < 1e-9:
        raise Ambiguous("observer stands on the facing or the query point: no direction")
    angle = math.atan2(
        forward[0] * target[1] - forward[1] * target[0], float(np.dot(forward, target))
    )
    return math.degrees(angle) % 360.0


def relative_angle(standing_at: PointLike, facing: PointLike, query: PointLike) -> float:
    """Signed angle (deg, (-180, 180]) of ``query`` from the facing direction; + is left."""
    ccw = _ccw_angle(standing_at, facing, query)
    return ccw - 360.0 if ccw > 180.0 else ccw


def direction_label(angle_deg: float, level: str = "hard") -> str:
    """Label of an angle (any convention: taken modulo 360, counter-clockwise) at a level."""
    if level not in _BINS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    ccw = angle_deg % 360.0
    for upper, label in _BINS[level]:
        if ccw < upper:
            return label
    return _BINS[level][-1][1]


def boundary_margin(angle_deg: float, level: str = "hard") -> float:
    """Degrees between the angle and the nearest boundary between two labels of the level."""
    if level not in _BOUNDARIES:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    ccw = angle_deg % 360.0
    return min(abs(ccw - b) for b in _BOUNDARIES[level])


def relative_direction(
    standing_at: PointLike, facing: PointLike, query: PointLike, level: str = "hard"
) -> Direction:
    """Where ``query`` is for an observer at ``standing_at`` facing ``facing`` (xy plane)."""
    ccw = _ccw_angle(standing_at, facing, query)
    signed = ccw - 360.0 if ccw > 180.0 else ccw
    return Direction(direction_label(ccw, level), signed, boundary_margin(ccw, level))


def relative_direction_or_ambiguous(
    standing_at: PointLike,
    facing: PointLike,
    query: PointLike,
    level: str = "hard",
    margin_deg: float = DEFAULT_MARGIN_DEG,
    max_corners_elsewhere: int = 2,
) -> str:
    """The label, or Ambiguous when the answer is within ``margin_deg`` of a boundary.

    When ``query`` is an object, its box corners are checked too (VSI-Bench's rule): if more
    than ``max_corners_elsewhere`` of the eight fall under another label, a large object
    straddles the boundary and the question is ambiguous.
    """
    result = relative_direction(standing_at, facing, query, level)
    if result.margin_deg < margin_deg:
        raise Ambiguous(
            f"{level} direction {result.label!r} at {result.angle_deg:.1f} deg is within "
            f"{margin_deg} deg of a boundary"
        )
    if isinstance(query, Object3D):
        other_labels = sum(
            relative_direction(standing_at, facing, corner, level).label != result.label
            for corner in query.corners
        )
        if other_labels > max_corners_elsewhere:
            raise Ambiguous(
                f"{other_labels} corners of {query.category} lie outside {result.label!r}"
            )
    return result.label
