"""A handheld walkthrough: a smooth path through the room's free floor, eye-height camera.

The path visits a few far-apart spots of the free floor (the room shrunk away from
the walls, minus furniture with a margin) in order around the room, along shortest
grid paths, then is smoothed and sampled at equal steps. The camera looks between
its walking direction and the middle of the room, tilted slightly down, with a
small step bob and a little hand sway, like a phone video of someone showing a room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import shapely
from scipy.ndimage import gaussian_filter1d
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union


@dataclass(frozen=True)
class TrajectoryConfig:
    """How the camera walks and looks."""

    clearances: tuple[tuple[float, float], ...] = field(
        default=((0.45, 0.30), (0.35, 0.20), (0.28, 0.12)),
        metadata={
            "help": "(wall, furniture) clearances of the walkable floor (m), tried in order."
        },
    )
    grid: float = field(default=0.1, metadata={"help": "Cell size of the path-finding grid (m)."})
    eye_height: tuple[float, float] = field(
        default=(1.4, 1.7), metadata={"help": "Camera height range (m)."}
    )
    bob: float = field(default=0.015, metadata={"help": "Amplitude of the vertical step bob (m)."})
    step: float = field(
        default=0.65, metadata={"help": "Walking step length (m), the bob's period."}
    )
    pitch_deg: tuple[float, float] = field(
        default=(-24.0, -10.0), metadata={"help": "Downward tilt range (deg)."}
    )
    hfov_deg: tuple[float, float] = field(
        default=(60.0, 70.0), metadata={"help": "Horizontal field of view range (deg)."}
    )
    speed: tuple[float, float] = field(
        default=(0.45, 0.75), metadata={"help": "Walking speed range (m/s)."}
    )
    smoothing: float = field(default=0.45, metadata={"help": "Gaussian smoothing of the path (m)."})
    sweep_deg: float = field(
        default=300.0,
        metadata={
            "help": "Least total turn of the view over the video (deg), so it sees all walls."
        },
    )
    look_at_centre: float = field(
        default=0.6,
        metadata={
            "help": "Weight of the room's middle against the walking direction in where the camera looks."
        },
    )


@dataclass(frozen=True)
class CameraPath:
    poses: np.ndarray  # (N, 4, 4) camera-to-world, OpenCV axes
    timestamps: np.ndarray  # (N,) seconds
    hfov_deg: float
    walkable: Polygon  # the free floor the path was planned in

    @property
    def positions(self) -> np.ndarray:
        return self.poses[:, :3, 3]


def walkable_floor(
    room: Polygon, obstacles: list[Polygon], wall: float, furniture: float
) -> Polygon | None:
    """The largest piece of floor at least ``wall`` from walls and ``furniture`` from obstacles."""
    free = room.buffer(-wall, join_style="mitre")
    if obstacles:
        free = free.difference(
            unary_union([o.buffer(furniture, join_style="mitre") for o in obstacles])
        )
    pieces = list(free.geoms) if isinstance(free, MultiPolygon) else [free]
    pieces = [p for p in pieces if isinstance(p, Polygon) and not p.is_empty]
    return max(pieces, key=lambda p: p.area) if pieces else None


def _grid_graph(free: Polygon, cell: float) -> tuple[np.ndarray, object]:
    """Cell centres inside ``free`` and their 8-neighbour graph (no corner cutting)."""
    x0, y0, x1, y1 = free.bounds
    xs, ys = np.arange(x0 + cell / 2, x1, cell), np.arange(y0 + cell / 2, y1, cell)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    inside = shapely.contains_xy(free, gx, gy)
    ids = np.full(inside.shape, -1)
    ids[inside] = np.arange(int(inside.sum()))
    nx, ny = ids.shape
    padded = np.pad(ids, 1, constant_values=-1)

    def shifted(dx: int, dy: int) -> np.ndarray:
        return padded[1 + dx : 1 + dx + nx, 1 + dy : 1 + dy + ny]

    rows, cols, weights = [], [], []
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        a, b = ids, shifted(dx, dy)
        ok = (a >= 0) & (b >= 0)
        if dx and dy:  # diagonal: both orthogonal neighbours must be free too
            ok &= (shifted(dx, 0) >= 0) & (shifted(0, dy) >= 0)
        rows.append(a[ok])
        cols.append(b[ok])
        weights.append(np.full(int(ok.sum()), cell * math.hypot(dx, dy)))
    n = int(inside.sum())
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
    graph = coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)
    ).tocsr()
    return np.column_stack([gx[inside], gy[inside]]), graph


def _waypoint_route(rng: np.random.Generator, free: Polygon, cell: float) -> np.ndarray | None:
    """A polyline through far-apart free spots, visited in order around the room."""
    points, graph = _grid_graph(free, cell)
    if len(points) < 2:
        return points if len(points) else None
    _, labels = connected_components(graph, directed=False)
    main = np.flatnonzero(labels == np.bincount(labels).argmax())
    count = int(np.clip(round(free.area / 4) + 2, 3, 7))
    chosen = [int(main[rng.integers(len(main))])]
    distance = np.linalg.norm(points[main] - points[chosen[0]], axis=1)
    for _ in range(count - 1):
        chosen.append(int(main[int(distance.argmax())]))
        distance = np.minimum(distance, np.linalg.norm(points[main] - points[chosen[-1]], axis=1))
    centre = points[main].mean(axis=0)
    angles = np.arctan2(points[chosen, 1] - centre[1], points[chosen, 0] - centre[0])
    order = np.argsort(angles)
    order = np.roll(order, -int(rng.integers(len(order))))
    if rng.random() < 0.5:
        order = order[::-1]
    waypoints = [chosen[i] for i in order]
    route: list[int] = [waypoints[0]]
    for a, b in pairwise(waypoints):
        _, previous = dijkstra(graph, indices=a, return_predecessors=True)
        leg = [b]
        while leg[-1] != a:
            leg.append(int(previous[leg[-1]]))
        route.extend(reversed(leg[:-1]))
    return points[route]


def _resample(polyline: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` metres along the polyline, and their arc lengths."""
    steps = np.linalg.norm(np.diff(polyline, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    if arc[-1] <= 0:
        return polyline[:1], np.zeros(1)
    s = np.linspace(0.0, arc[-1], max(2, int(arc[-1] / spacing) + 1))
    return np.column_stack(
        [np.interp(s, arc, polyline[:, 0]), np.interp(s, arc, polyline[:, 1])]
    ), s


def _smoothed(path: np.ndarray, free: Polygon, sigma_samples: float) -> np.ndarray:
    """The most smoothing (halving from ``sigma_samples``) that keeps the path on free floor."""
    tolerance = free.buffer(0.08)
    sigma = sigma_samples
    while sigma >= 1.0:
        smooth = gaussian_filter1d(path, sigma, axis=0, mode="nearest")
        if shapely.contains_xy(tolerance, smooth[:, 0], smooth[:, 1]).all():
            return smooth
        sigma /= 2
    return path


def _wobble(rng: np.random.Generator, count: int, amplitude: float, sigma: float) -> np.ndarray:
    """Smooth random motion of about ``amplitude``: hand sway."""
    noise = gaussian_filter1d(rng.normal(size=count + 8), sigma, mode="nearest")[4:-4]
    spread = noise.std()
    return noise / spread * amplitude if spread > 0 else np.zeros(count)


def _pan(rng: np.random.Generator, yaw: np.ndarray, sweep: float) -> np.ndarray:
    """An extra steady turn so the view sweeps at least ``sweep`` radians over the video.

    Walking around the middle of a room already turns the view; a short walk in a small
    room does not, so the camera pans, continuing the way it already turns.
    """
    turned = float(yaw[-1] - yaw[0])
    missing = sweep - abs(turned)
    if missing <= 0 or len(yaw) < 2:
        return np.zeros_like(yaw)
    direction = math.copysign(1.0, turned) if abs(turned) > 1e-3 else float(rng.choice([-1.0, 1.0]))
    return direction * missing * np.linspace(-0.5, 0.5, len(yaw))


def look_pose(position: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera-to-world pose looking along (yaw, pitch) with OpenCV axes (+x right, +y down, +z forward)."""
    forward = np.array(
        [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)]
    )
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return pose


def plan_walkthrough(
    rng: np.random.Generator,
    room: Polygon,
    obstacles: list[Polygon],
    frames: int,
    config: TrajectoryConfig | None = None,
) -> CameraPath | None:
    """``frames`` camera poses walking through ``room`` around ``obstacles``; None if there is no floor."""
    cfg = config or TrajectoryConfig()
    for wall, furniture in cfg.clearances:
        free = walkable_floor(room, obstacles, wall, furniture)
        if free is not None and free.area >= 0.05:
            break
    else:
        return None
    route = _waypoint_route(rng, free, cfg.grid)
    if route is None:
        return None
    spacing = 0.05
    path, arc = _resample(route, spacing)
    path = _smoothed(path, free, cfg.smoothing / spacing)
    path, arc = _resample(path, spacing) if len(path) > 1 else (path, arc)
    length = float(arc[-1])
    s = np.linspace(0.0, length, frames) if frames > 1 else np.array([length / 2])
    xy = np.column_stack([np.interp(s, arc, path[:, 0]), np.interp(s, arc, path[:, 1])])
    centre = np.asarray(room.centroid.coords[0])
    if length >= 0.5:
        ahead = np.column_stack(
            [np.interp(s + 0.3, arc, path[:, 0]), np.interp(s + 0.3, arc, path[:, 1])]
        )
        behind = np.column_stack(
            [np.interp(s - 0.3, arc, path[:, 0]), np.interp(s - 0.3, arc, path[:, 1])]
        )
        tangent = ahead - behind
        tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
        to_centre = centre - xy
        far = np.linalg.norm(to_centre, axis=1, keepdims=True)
        to_centre = np.where(far > 0.6, to_centre / np.maximum(far, 1e-9), tangent)
        look = (1 - cfg.look_at_centre) * tangent + cfg.look_at_centre * to_centre
        yaw = np.unwrap(np.arctan2(look[:, 1], look[:, 0]))
        yaw = gaussian_filter1d(yaw, max(1.0, frames / 12), mode="nearest")
        yaw = yaw + _pan(rng, yaw, math.radians(cfg.sweep_deg))
    else:  # no room to walk: stand and pan across the room
        yaw = float(rng.uniform(-math.pi, math.pi)) + np.linspace(
            0.0, math.radians(cfg.sweep_deg), frames
        )
    yaw = yaw + _wobble(rng, frames, math.radians(4), max(1.0, frames / 10))
    pitch = math.radians(rng.uniform(*cfg.pitch_deg)) + _wobble(
        rng, frames, math.radians(2), max(1.0, frames / 12)
    )
    roll = _wobble(rng, frames, math.radians(1.2), max(1.0, frames / 12))
    eye = float(rng.uniform(*cfg.eye_height))
    height = eye + cfg.bob * np.sin(2 * math.pi * s / cfg.step)
    poses = np.stack(
        [
            look_pose(np.array([x, y, z]), a, p, r)
            for (x, y), z, a, p, r in zip(xy, height, yaw, pitch, roll, strict=True)
        ]
    )
    speed = float(rng.uniform(*cfg.speed))
    timestamps = s / speed if length >= 0.5 else np.arange(frames) * 0.5
    hfov = float(rng.uniform(*cfg.hfov_deg))
    return CameraPath(poses, timestamps - timestamps[0], hfov, free)
