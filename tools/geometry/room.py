"""Room size and floor outline.

Floor area: sources that publish an area (VSI-Bench metadata, whose ``room_size`` comes
from an alpha shape over the scan) are answered with the published number, because that
is what their benchmark grades against; scenes with a floor polygon use the exact
shoelace area of the polygon.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from shapely.geometry import MultiPoint, Polygon

from .scene_view import SceneView

# Sources whose room.area is a published measurement rather than derived from the polygon.
PUBLISHED_AREA_SOURCES = frozenset({"vsibench-meta"})

# Margin (m) around the convex hull of object footprints when a scene has no floor polygon:
# furniture stands some way from the walls, so the hull alone would cut walkable floor off.
HULL_MARGIN_M = 0.3


def polygon_area(points: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula), m^2; orientation does not matter."""
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(xy) < 3:
        return 0.0
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def floor_area(scene: SceneView) -> float:
    """Floor area (m^2): the published area where the source states one, else the polygon's."""
    polygon = scene.room.floor_polygon
    if scene.source in PUBLISHED_AREA_SOURCES or len(polygon) < 3:
        return float(scene.room.area)
    return polygon_area(polygon)


def floor_z(scene: SceneView) -> float:
    """Height of the floor plane (m).

    With a floor polygon the room's ``floor_z`` is trusted; metadata-only scenes (no
    polygon) use the lowest bottom of any object, since real scans do not put the floor at 0.
    """
    if len(scene.room.floor_polygon) >= 3 or not scene.objects:
        return float(scene.room.floor_z)
    return min(o.bottom_z for o in scene.objects)


def floor_outline(scene: SceneView, hull_margin: float = HULL_MARGIN_M) -> Polygon:
    """Walkable floor outline as a shapely Polygon.

    The room's floor polygon when it has one; otherwise (metadata-only scenes) the convex
    hull of all object footprints grown by ``hull_margin`` metres.
    """
    polygon = scene.room.floor_polygon
    if len(polygon) >= 3:
        outline = Polygon(polygon)
        return outline if outline.is_valid else outline.buffer(0)
    if not scene.objects:
        raise ValueError(f"scene {scene.id} has neither a floor polygon nor objects")
    points = np.vstack([o.footprint for o in scene.objects])
    return MultiPoint([tuple(p) for p in points]).convex_hull.buffer(
        hull_margin, join_style="mitre"
    )
