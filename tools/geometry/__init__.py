"""Geometry library for ground-truth programs: ``import geometry as g`` inside the sandbox.

Standalone on purpose (numpy, scipy, shapely and the standard library only; relative
imports only), because the sandbox uploads this folder as a top-level package.
Conventions: +z up, metres, degrees; see docs/geometry_api.md.
"""

from __future__ import annotations

from .appearance import (
    appearance_order,
    appears_in,
    category_first_appearance,
    first_appearance,
    first_appearances,
)
from .boxes import (
    box_distance,
    boxes_intersect,
    center_distance,
    closest_distance,
    object_size,
    point_box_distance,
)
from .camera import CameraMotion, camera_heading, camera_motion, camera_pitch
from .direction import (
    Direction,
    boundary_margin,
    direction_label,
    relative_angle,
    relative_direction,
    relative_direction_or_ambiguous,
)
from .free_space import free_space, obstacles
from .room import floor_area, floor_outline, floor_z, polygon_area
from .route import (
    Route,
    blocking_objects,
    check_legs_clear,
    check_turn_margins,
    shortest_route,
    turn_sequence,
)
from .scene_view import Ambiguous, FrameView, Object3D, Opening, RoomView, SceneView
from .shortest_path import shortest_path

__all__ = [
    "Ambiguous",
    "CameraMotion",
    "Direction",
    "FrameView",
    "Object3D",
    "Opening",
    "RoomView",
    "Route",
    "SceneView",
    "appearance_order",
    "appears_in",
    "blocking_objects",
    "boundary_margin",
    "box_distance",
    "boxes_intersect",
    "camera_heading",
    "camera_motion",
    "camera_pitch",
    "category_first_appearance",
    "center_distance",
    "check_legs_clear",
    "check_turn_margins",
    "closest_distance",
    "direction_label",
    "first_appearance",
    "first_appearances",
    "floor_area",
    "floor_outline",
    "floor_z",
    "free_space",
    "object_size",
    "obstacles",
    "point_box_distance",
    "polygon_area",
    "relative_angle",
    "relative_direction",
    "relative_direction_or_ambiguous",
    "shortest_path",
    "shortest_route",
    "turn_sequence",
]
