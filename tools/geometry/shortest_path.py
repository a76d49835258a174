"""Exact Euclidean shortest path inside a polygonal region (visibility graph).

A shortest path in a polygon with holes bends only at reflex corners of the region (where
the free region's interior angle exceeds 180 degrees), and each of its legs is tangent to
the boundary at both ends. So the graph of start, goal and those corners, joined wherever
the straight segment stays inside the region, contains the shortest path; Dijkstra finds it.
Segments are tested with shapely in one vectorised call.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.ops import nearest_points

from .scene_view import Ambiguous

_TOLERANCE_M = 1e-7


def _reflex_corners(region: shapely.Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reflex corners of the region with their previous and next boundary vertices."""
    corners, previous, following = [], [], []
    parts = getattr(region, "geoms", [region])
    for part in parts:
        part = shapely.geometry.polygon.orient(part, sign=1.0)  # region lies left of every ring
        for ring in [part.exterior, *part.interiors]:
            points = np.asarray(ring.coords)[:-1, :2]
            before, after = np.roll(points, 1, axis=0), np.roll(points, -1, axis=0)
            turn = _cross(points - before, after - points)
            reflex = turn < -1e-12  # a right turn while the region is on the left
            corners.append(points[reflex])
            previous.append(before[reflex])
            following.append(after[reflex])
    if not corners:
        empty = np.empty((0, 2))
        return empty, empty, empty
    return np.vstack(corners), np.vstack(previous), np.vstack(following)


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def snap_inside(region: shapely.Geometry, point: np.ndarray) -> np.ndarray:
    """The point itself if it lies in the region, else the nearest point of the region."""
    where = shapely.Point(float(point[0]), float(point[1]))
    if region.covers(where):
        return np.asarray(point, dtype=float)
    nearest = nearest_points(region, where)[0]
    return np.array([nearest.x, nearest.y])


def shared_component(
    region: shapely.Geometry, start: np.ndarray, goal: np.ndarray
) -> shapely.Geometry:
    """The connected part of the region that start and goal can reach with the least stepping.

    Objects often sit in corners whose nearest free point is a tiny pocket; stepping a little
    further into the part of the floor that also reaches the goal is what a walker would do.
    """
    parts = list(getattr(region, "geoms", [region]))
    if len(parts) <= 1:
        return region
    points = [shapely.Point(float(p[0]), float(p[1])) for p in (start, goal)]
    return min(parts, key=lambda part: sum(part.distance(p) for p in points))


def shortest_path(region: shapely.Geometry, start: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Vertices (k, 2) of the shortest path from ``start`` to ``goal`` inside ``region``.

    Both points must lie in the region (see ``snap_inside``). Raises Ambiguous when they are
    not connected.
    """
    if region.is_empty:
        raise Ambiguous("no free floor at this clearance")
    corners, previous, following = _reflex_corners(region)
    nodes = np.vstack([start, goal, corners])
    count = len(nodes)
    first, second = np.triu_indices(count, 1)
    keep = _tangent(first, second, nodes, previous, following) & _tangent(
        second, first, nodes, previous, following
    )
    first, second = first[keep], second[keep]
    segments = shapely.linestrings(np.stack([nodes[first], nodes[second]], axis=1))
    tolerant = region.buffer(_TOLERANCE_M)
    shapely.prepare(tolerant)
    visible = shapely.covers(tolerant, segments)
    first, second = first[visible], second[visible]
    lengths = np.linalg.norm(nodes[first] - nodes[second], axis=1) + 1e-12  # 0 means no edge
    graph = csr_matrix((lengths, (first, second)), shape=(count, count))
    distances, predecessors = dijkstra(graph, directed=False, indices=0, return_predecessors=True)
    if not np.isfinite(distances[1]):
        raise Ambiguous("start and goal are not connected by free floor")
    chain = [1]
    while chain[-1] != 0:
        chain.append(int(predecessors[chain[-1]]))
    return nodes[chain[::-1]]


def _tangent(
    ends: np.ndarray,
    others: np.ndarray,
    nodes: np.ndarray,
    previous: np.ndarray,
    following: np.ndarray,
) -> np.ndarray:
    """For legs ending at a corner: both boundary neighbours lie on one side of the leg's line.

    A leg that would cut into the corner's wedge can never be part of a shortest path.
    """
    result = np.ones(len(ends), dtype=bool)
    at_corner = ends >= 2
    corner = ends[at_corner] - 2
    direction = nodes[others[at_corner]] - nodes[ends[at_corner]]
    here = nodes[ends[at_corner]]
    side_previous = _cross(direction, previous[corner] - here)
    side_following = _cross(direction, following[corner] - here)
    result[at_corner] = side_previous * side_following >= -1e-12
    return result
