"""Walkable floor: the room outline minus floor-standing furniture, both kept at a clearance.

Obstacles are every object (except those excluded, e.g. a route's start and goal) whose
box reaches above ``floor + 0.15 m`` and starts below ``floor + 1.5 m``, so wall-hung
pictures and ceiling lights do not block, and whose category is not in
``PASSABLE_CATEGORIES`` (doors, windows, rugs, ...). Circles are approximated by
polygons whose vertices lie on the true circle, so the clearance is honoured to within
``clearance * (1 - cos(11.25 deg))`` (5 mm at 0.25 m).
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.ops import unary_union

from .room import floor_outline, floor_z
from .rules import WALK_CLEARANCE_M
from .scene_view import Object3D, SceneView

PASSABLE_CATEGORIES = frozenset(
    {"door", "doorframe", "window", "rug", "carpet", "mat", "floor", "wall", "ceiling", "curtain"}
)
MIN_OBSTACLE_TOP_M = 0.15
MAX_OBSTACLE_BOTTOM_M = 1.5
DEFAULT_CLEARANCE_M = WALK_CLEARANCE_M
_QUAD_SEGMENTS = 4  # polygon segments per quarter circle when growing shapes


def obstacles(scene: SceneView, exclude: Sequence[Object3D] = ()) -> list[Object3D]:
    """Objects that block walking (see the module docstring for the rule)."""
    floor = floor_z(scene)
    skip = {o.instance_id for o in exclude}
    return [
        o
        for o in scene.objects
        if o.instance_id not in skip
        and o.category not in PASSABLE_CATEGORIES
        and o.top_z > floor + MIN_OBSTACLE_TOP_M
        and o.bottom_z < floor + MAX_OBSTACLE_BOTTOM_M
    ]


def free_space(
    scene: SceneView, clearance: float = DEFAULT_CLEARANCE_M, exclude: Sequence[Object3D] = ()
) -> shapely.Geometry:
    """Floor where the centre of a walker of radius ``clearance`` can be (shapely geometry)."""
    walkable = floor_outline(scene).buffer(-clearance, quad_segs=_QUAD_SEGMENTS)
    blocked = [
        o.footprint_shape.buffer(clearance, quad_segs=_QUAD_SEGMENTS)
        for o in obstacles(scene, exclude)
    ]
    return walkable.difference(unary_union(blocked)) if blocked else walkable
