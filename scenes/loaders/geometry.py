"""Geometry that real-data loaders share: mesh vertices, yaw-only boxes, floor outlines.

Rules (documented in docs/scenes.md):
- a yaw-only box is the minimum-area rectangle of the points in xy (rotating calipers
  over the convex hull) times their z range;
- a floor outline is the footprint of the points in xy on a 10 cm grid: occupied
  cells, closed over gaps up to 40 cm, holes filled, largest connected piece, traced,
  shrunk by the half cell the cells overhang the points, simplified by 5 cm,
  counter-clockwise.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
import shapely
import trimesh
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from scenes.errors import SceneDataError
from scenes.loaders.fields import Field
from scenes.schema import OrientedBox

FOOTPRINT_CELL_M = 0.10
FOOTPRINT_CLOSING_CELLS = 2
FOOTPRINT_SIMPLIFY_M = 0.05
ROTATION_TOLERANCE = 1e-3


def read_mesh_vertices(path: Path) -> np.ndarray:
    """Vertex positions (N, 3) of a PLY mesh, in the file's own coordinates."""
    if not path.is_file():
        raise SceneDataError(path, "<file>", "file not found")
    try:
        geometry = trimesh.load(path, file_type="ply", process=False)
    except Exception as error:  # trimesh raises many types for malformed files
        raise SceneDataError(path, "<file>", f"not a readable PLY mesh ({error})") from error
    vertices = np.asarray(getattr(geometry, "vertices", np.zeros((0, 3))), dtype=float)
    if vertices.ndim != 2 or vertices.shape[0] == 0 or vertices.shape[1] != 3:
        raise SceneDataError(path, "element vertex", "the mesh has no vertices")
    if not np.all(np.isfinite(vertices)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(vertices), axis=1))[0])
        raise SceneDataError(path, f"vertex[{bad}]", "coordinates must be finite numbers")
    return vertices


MIN_SIDE_M = 1e-3  # boxes fitted to flat mesh segments get at least this thickness


def obb_box(field: Field) -> OrientedBox:
    """A box from ``centroid``, ``axesLengths`` and row-major ``normalizedAxes`` whose ROWS
    are the box axes (ARKitScenes' convention, which VSI-Bench's meta info shares)."""
    centre = field["centroid"].as_vector(3)
    extents = field["axesLengths"].as_vector(3)
    if min(extents) <= 0:
        field["axesLengths"].fail(
            f"side lengths must be > 0, got {list(extents)}", "a box of zero size has no volume"
        )
    axes_field = field["normalizedAxes"]
    rows = np.asarray(axes_field.as_vector(9)).reshape(3, 3)
    if not np.allclose(rows @ rows.T, np.eye(3), atol=ROTATION_TOLERANCE):
        axes_field.fail("the 3x3 axes are not orthonormal (expected a rotation matrix)")
    if np.linalg.det(rows) < 0:
        axes_field.fail("the 3x3 axes are a reflection (determinant -1), not a rotation")
    rotation = tuple(tuple(float(v) for v in row) for row in rows.T)  # columns = box axes
    return OrientedBox(center=centre, extents=extents, rotation=rotation)


def yaw_rotation(yaw: float) -> tuple[tuple[float, float, float], ...]:
    """Rotation about +z by `yaw` radians (columns are the rotated x, y, z axes)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


def yaw_box(points: np.ndarray) -> OrientedBox:
    """The smallest yaw-only box around `points` (N, 3): min-area rectangle in xy, z range."""
    xy = points[:, :2]
    z_low, z_high = float(points[:, 2].min()), float(points[:, 2].max())
    yaw, (x_low, x_high), (y_low, y_high) = _min_area_rectangle(xy)
    centre_local = np.array([(x_low + x_high) / 2.0, (y_low + y_high) / 2.0])
    c, s = math.cos(yaw), math.sin(yaw)
    centre_xy = np.array([[c, -s], [s, c]]) @ centre_local
    return OrientedBox(
        center=(float(centre_xy[0]), float(centre_xy[1]), (z_low + z_high) / 2.0),
        # a flat segment (all points in one plane) still gets a box with a volume
        extents=tuple(
            max(side, MIN_SIDE_M) for side in (x_high - x_low, y_high - y_low, z_high - z_low)
        ),
        rotation=yaw_rotation(yaw),
    )


def _min_area_rectangle(
    xy: np.ndarray,
) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Yaw in [0, pi/2) and the point ranges along the rotated axes of the tightest rectangle."""
    hull_points = xy  # fewer than 3 points or all collinear: every edge is a candidate
    with contextlib.suppress(QhullError, ValueError):
        hull_points = xy[ConvexHull(xy).vertices]
    edges = np.diff(np.vstack([hull_points, hull_points[:1]]), axis=0)
    angles = np.mod(np.arctan2(edges[:, 1], edges[:, 0]), math.pi / 2)
    candidates = np.unique(np.round(np.concatenate([[0.0], angles]), 12))
    best: tuple[float, float, tuple[float, float], tuple[float, float]] | None = None
    for yaw in candidates:
        c, s = math.cos(yaw), math.sin(yaw)
        local = hull_points @ np.array([[c, -s], [s, c]])  # rotate points by -yaw
        low, high = local.min(axis=0), local.max(axis=0)
        area = float(np.prod(high - low))
        if best is None or area < best[0] - 1e-12:
            best = (
                area,
                float(yaw),
                (float(low[0]), float(high[0])),
                (float(low[1]), float(high[1])),
            )
    assert best is not None
    return best[1], best[2], best[3]


def floor_outline(xy: np.ndarray) -> tuple[tuple[tuple[float, float], ...], float]:
    """Counter-clockwise outline and area (m^2) of the footprint of `xy` points (N, 2)."""
    cell = FOOTPRINT_CELL_M
    pad = FOOTPRINT_CLOSING_CELLS + 1
    origin = xy.min(axis=0) - (pad + 0.5) * cell  # points sit mid-cell at the extremes
    index = np.floor((xy - origin) / cell).astype(int)
    shape = index.max(axis=0) + pad + 1
    grid = np.zeros(tuple(shape), dtype=bool)
    grid[index[:, 0], index[:, 1]] = True
    square = np.ones((3, 3), dtype=bool)
    grid = ndimage.binary_closing(grid, structure=square, iterations=FOOTPRINT_CLOSING_CELLS)
    grid = ndimage.binary_fill_holes(grid)
    labels, count = ndimage.label(grid)
    if count == 0:
        return (), 0.0
    sizes = ndimage.sum(grid, labels, index=range(1, count + 1))
    grid = labels == (int(np.argmax(sizes)) + 1)
    cells = _cells_to_polygon(grid, origin, cell)
    # the cells overhang the outermost points by half a cell; take that back off
    polygon = cells.buffer(-cell / 2, join_style="mitre").simplify(FOOTPRINT_SIMPLIFY_M)
    if isinstance(polygon, MultiPolygon):
        polygon = max(polygon.geoms, key=lambda geometry: geometry.area)
    return _outline(polygon)


def _cells_to_polygon(grid: np.ndarray, origin: np.ndarray, cell: float) -> Polygon:
    """Union of occupied cells, merged per row into runs first so the union stays fast."""
    rectangles = []
    for column in range(grid.shape[1]):
        occupied = np.flatnonzero(grid[:, column])
        if occupied.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(occupied) > 1)
        starts = np.concatenate([[occupied[0]], occupied[breaks + 1]])
        ends = np.concatenate([occupied[breaks], [occupied[-1]]]) + 1
        y0, y1 = origin[1] + column * cell, origin[1] + (column + 1) * cell
        for start, end in zip(starts, ends, strict=True):
            rectangles.append(shapely.box(origin[0] + start * cell, y0, origin[0] + end * cell, y1))
    merged = shapely.union_all(rectangles)
    if isinstance(merged, MultiPolygon):  # cells touching only at a corner
        merged = max(merged.geoms, key=lambda geometry: geometry.area)
    return Polygon(merged.exterior)


def boxes_outline(boxes: list[OrientedBox]) -> tuple[tuple[tuple[float, float], ...], float]:
    """Convex hull of the boxes' corners in xy: the room outline where no mesh is given."""
    corners = np.vstack([box.corners()[:, :2] for box in boxes])
    return _outline(shapely.MultiPoint([tuple(point) for point in corners]).convex_hull)


def _outline(shape: object) -> tuple[tuple[tuple[float, float], ...], float]:
    """Counter-clockwise exterior (0.1 mm precision, no repeated vertex) and its area."""
    if not isinstance(shape, Polygon) or shape.is_empty or shape.area <= 0:
        return (), 0.0
    exterior = orient(Polygon(shape.exterior), sign=1.0).exterior.coords[:-1]
    outline = tuple((round(float(x), 4) + 0.0, round(float(y), 4) + 0.0) for x, y in exterior)
    return outline, float(Polygon(outline).area)
