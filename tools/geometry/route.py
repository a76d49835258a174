"""Shortest walkable route between two objects on the floor plan, and its turn sequence.

Free space (``free_space``) is the floor outline (the floor polygon, or for
metadata-only scenes the convex hull of object footprints grown by 0.3 m) shrunk by a
clearance, minus the footprints of floor-standing furniture (not the start and goal)
grown by the same clearance. The route is the exact Euclidean shortest path inside that
polygonal region (``shortest_path``: visibility graph and Dijkstra), from the start's
centre to the goal's centre; a centre outside free space first steps to the nearest point
of the connected free area that both can reach with the least stepping, and those steps
are part of the route.
Turn sequence (VSI-Bench route_planning words): the walker starts at the start object
facing ``facing``; before each straight leg it turns 'turn left' / 'turn right' when the
heading changes by at least ``straight_deg`` (30) and less than 135 degrees, or 'turn back'
at 135 degrees or more; smaller changes count as going straight on ('go forward').
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import shapely

from .free_space import DEFAULT_CLEARANCE_M, free_space, obstacles
from .rules import ROUTE_BACK_DEG, ROUTE_MIN_TURN_DEG
from .scene_view import Ambiguous, Object3D, SceneView
from .shortest_path import shared_component, shortest_path, snap_inside

STRAIGHT_DEG = ROUTE_MIN_TURN_DEG
BACK_DEG = ROUTE_BACK_DEG
SIMPLIFY_M = 0.3
MAX_STEP_M = 1.0

PointLike = Object3D | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Route:
    """A walkable route: straight legs between waypoints, and what a walker would do."""

    length_m: float
    waypoints: np.ndarray  # (k, 2) xy from the start centre to the goal centre
    legs: np.ndarray  # (m, 2) waypoints simplified for instructions (tiny zig-zags removed)
    turns: tuple[str, ...]  # e.g. ('turn left', 'go forward', 'turn right', 'go forward')
    turn_angles_deg: tuple[float, ...]  # signed heading change before each leg (+ = left)
    landmarks: tuple[str, ...]  # category of the object nearest to the end of each leg

    def turn_words(self) -> list[str]:
        """Only the turns ('turn left' | 'turn right' | 'turn back'), in order."""
        return [step for step in self.turns if step != "go forward"]


def _xy(point: PointLike) -> np.ndarray:
    if isinstance(point, Object3D):
        return np.asarray(point.center[:2], dtype=float)
    return np.asarray(point, dtype=float).reshape(-1)[:2]


def shortest_route(
    scene: SceneView,
    start: Object3D,
    goal: Object3D,
    facing: PointLike | None = None,
    clearance: float = DEFAULT_CLEARANCE_M,
    straight_deg: float = STRAIGHT_DEG,
    simplify_m: float = SIMPLIFY_M,
    max_step_m: float = MAX_STEP_M,
) -> Route:
    """Shortest free-space route from ``start``'s centre to ``goal``'s centre.

    ``facing`` (an object or xy point) sets the initial heading for the turn sequence;
    without it the walker starts facing along the first leg. The turn sequence is read from
    the route simplified to within ``simplify_m`` (Douglas-Peucker), so that rounding a
    corner counts as one turn. Raises Ambiguous when no route exists at this clearance, or
    when free floor is more than ``max_step_m`` from the start's or goal's footprint.
    """
    free = free_space(scene, clearance, exclude=(start, goal))
    if free.is_empty:
        raise Ambiguous("no free floor at this clearance")
    start_xy, goal_xy = _xy(start), _xy(goal)
    free = shared_component(free, start_xy, goal_xy)
    for end in (start, goal):
        if free.distance(end.footprint_shape) > max_step_m:
            raise Ambiguous(f"the {end.category} is walled in: free floor is beyond {max_step_m} m")
    inner = shortest_path(free, snap_inside(free, start_xy), snap_inside(free, goal_xy))
    waypoints = _dedupe(np.vstack([start_xy, inner, goal_xy]))
    legs = waypoints
    if len(waypoints) > 2:
        legs = np.asarray(shapely.LineString(waypoints).simplify(simplify_m).coords)
    heading = _xy(facing) - start_xy if facing is not None else None
    turns, angles = turn_sequence(legs, heading, straight_deg)
    return Route(
        length_m=float(np.linalg.norm(np.diff(waypoints, axis=0), axis=1).sum()),
        waypoints=waypoints,
        legs=legs,
        turns=tuple(turns),
        turn_angles_deg=tuple(angles),
        landmarks=tuple(_nearest_category(scene, p, (start,)) for p in legs[1:]),
    )


def turn_sequence(
    waypoints: np.ndarray,
    initial_heading: Sequence[float] | np.ndarray | None = None,
    straight_deg: float = STRAIGHT_DEG,
) -> tuple[list[str], list[float]]:
    """Turn words and signed turn angles (deg, + = left) for walking a polyline."""
    legs = np.diff(np.asarray(waypoints, dtype=float), axis=0)
    legs = legs[np.linalg.norm(legs, axis=1) > 1e-9]
    steps: list[str] = []
    angles: list[float] = []
    heading = legs[0] if initial_heading is None else np.asarray(initial_heading, dtype=float)
    for leg in legs:
        turn = _signed_turn_deg(heading, leg)
        angles.append(turn)
        if abs(turn) >= BACK_DEG:
            steps.append("turn back")
        elif abs(turn) >= straight_deg:
            steps.append("turn left" if turn > 0 else "turn right")
        if not steps or steps[-1] != "go forward":
            steps.append("go forward")
        heading = leg
    return steps, angles


def check_turn_margins(
    route: Route, margin_deg: float = 10.0, straight_deg: float = STRAIGHT_DEG
) -> None:
    """Raise Ambiguous when a turn angle is within ``margin_deg`` of a word boundary."""
    for angle in route.turn_angles_deg:
        if min(abs(abs(angle) - straight_deg), abs(abs(angle) - BACK_DEG)) < margin_deg:
            raise Ambiguous(f"turn of {angle:.1f} deg is too close to a boundary")


def blocking_objects(
    scene: SceneView,
    start: PointLike,
    end: PointLike,
    clearance: float = DEFAULT_CLEARANCE_M,
    exclude: Sequence[Object3D] = (),
) -> list[Object3D]:
    """Obstacles (``free_space.obstacles``: floor-standing furniture) that a straight walk
    from ``start``'s centre to ``end``'s centre passes within ``clearance`` of, nearest to
    the start first. Objects given as ``start`` / ``end`` and those in ``exclude`` never
    block. Route planning walks such straight legs; a leg with blockers is not walkable."""
    a, b = _xy(start), _xy(end)
    skip = [o for o in (start, end) if isinstance(o, Object3D)] + list(exclude)
    line = shapely.LineString([a, b]) if np.linalg.norm(b - a) > 1e-9 else shapely.Point(a)
    hits = [o for o in obstacles(scene, skip) if o.footprint_shape.distance(line) < clearance]
    origin = shapely.Point(float(a[0]), float(a[1]))
    return sorted(hits, key=lambda o: o.footprint_shape.distance(origin))


def check_legs_clear(
    scene: SceneView, stops: Sequence[Object3D], clearance: float = DEFAULT_CLEARANCE_M
) -> None:
    """Raise Ambiguous when a straight leg between consecutive ``stops`` is blocked."""
    for a, b in pairwise(stops):
        blockers = blocking_objects(scene, a, b, clearance)
        if blockers:
            names = ", ".join(o.category for o in blockers[:3])
            raise Ambiguous(
                f"the walk from the {a.category} to the {b.category} is blocked by {names}"
            )


def _signed_turn_deg(heading: np.ndarray, leg: np.ndarray) -> float:
    cross = heading[0] * leg[1] - heading[1] * leg[0]
    return math.degrees(math.atan2(cross, float(np.dot(heading, leg))))


def _dedupe(points: np.ndarray) -> np.ndarray:
    keep = np.concatenate([[True], np.linalg.norm(np.diff(points, axis=0), axis=1) > 1e-9])
    return points[keep]


def _nearest_category(scene: SceneView, point: np.ndarray, exclude: Sequence[Object3D]) -> str:
    skip = {o.instance_id for o in exclude}
    candidates = [o for o in scene.objects if o.instance_id not in skip]
    if not candidates:
        return ""
    where = shapely.Point(float(point[0]), float(point[1]))
    return min(candidates, key=lambda o: o.footprint_shape.distance(where)).category
