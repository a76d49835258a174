"""Exact image-space geometry: 2D boxes and projected points in the frames a solver sees.

Drawing tools (and the cold-start trajectories built from ground truth) need pixel
coordinates in the *resized* frame the solver is shown, not the renderer's. Three sources:

- ``mask_boxes``: tight boxes from an instance buffer (exact; procedural scenes re-render
  it at the solver's frame size, so no rescaling error creeps in);
- ``projected_box``: the box of an oriented 3D box's projected corners, clipped at the near
  plane and the image border (the fallback for real scenes without masks);
- ``project_points`` + ``depth_visible``: 3D points in pixels with a depth test.

Coordinates go out as ``pixels`` (Qwen2.5-VL, ViLaSR) or ``norm1000`` (Qwen3-VL's native
0-1000 relative grid) through ``to_coordinates`` / ``from_coordinates``. Standalone on
purpose (numpy only): this folder is uploaded to the sandbox as a package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

CoordinateMode = Literal["pixels", "norm1000"]
COORDINATE_MODES: tuple[str, ...] = ("pixels", "norm1000")
NEAR_PLANE_M = 0.05

# corner i of a box has signs from bits of i (x bit 2, y bit 1, z bit 0): edges join corners
# that differ in one bit, matching OrientedBox.corners()
_BOX_EDGES = [(i, j) for i in range(8) for j in range(i + 1, 8) if bin(i ^ j).count("1") == 1]


@dataclass(frozen=True)
class Box2D:
    """A pixel box [x1, y1, x2, y2] (edges, x2/y2 exclusive) in an image of width x height."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: int
    height: int
    pixels: int = 0
    truncated: bool = False
    source: Literal["mask", "projection"] = "mask"

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def as_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]

    def iou(self, other: Box2D) -> float:
        ix = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


def scale_intrinsics(
    matrix: np.ndarray, source_size: tuple[int, int], target_size: tuple[int, int]
) -> np.ndarray:
    """Intrinsics for the same camera resampled from (w, h) to (w', h') (aspect may change)."""
    sx = target_size[0] / source_size[0]
    sy = target_size[1] / source_size[1]
    scaled = np.asarray(matrix, dtype=float).copy()
    scaled[0, :] *= sx
    scaled[1, :] *= sy
    scaled[2, :] = [0.0, 0.0, 1.0]
    return scaled


def camera_points(points_world: np.ndarray, camera_to_world: np.ndarray) -> np.ndarray:
    """World points (n, 3) in camera axes (OpenCV: +x right, +y down, +z forward)."""
    pose = np.asarray(camera_to_world, dtype=float)
    rotation, origin = pose[:3, :3], pose[:3, 3]
    return (np.asarray(points_world, dtype=float).reshape(-1, 3) - origin) @ rotation


def project_points(
    points_world: np.ndarray, matrix: np.ndarray, camera_to_world: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions (n, 2) of world points and their depth along +z (n,); z <= 0 is behind."""
    cam = camera_points(points_world, camera_to_world)
    z = cam[:, 2]
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    k = np.asarray(matrix, dtype=float)
    u = k[0, 0] * cam[:, 0] / safe + k[0, 2]
    v = k[1, 1] * cam[:, 1] / safe + k[1, 2]
    return np.stack([u, v], axis=1), z


def depth_visible(
    pixels: np.ndarray,
    depth: np.ndarray,
    depth_map: np.ndarray | None,
    tolerance_m: float = 0.05,
) -> np.ndarray:
    """Which projected points are in front of the camera, inside the image and not occluded.

    ``depth_map`` is metres along +z per pixel (0 where nothing was hit); without one only
    the frustum is tested. A point counts as seen when it is at most ``tolerance_m`` behind
    the surface the depth map recorded at its pixel.
    """
    pixels = np.asarray(pixels, dtype=float).reshape(-1, 2)
    depth = np.asarray(depth, dtype=float).reshape(-1)
    if depth_map is None:
        return depth > NEAR_PLANE_M
    height, width = depth_map.shape
    u = np.floor(pixels[:, 0]).astype(int)
    v = np.floor(pixels[:, 1]).astype(int)
    inside = (depth > NEAR_PLANE_M) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    seen = np.zeros(len(depth), dtype=bool)
    surface = depth_map[v[inside], u[inside]]
    seen[inside] = (surface <= 0) | (depth[inside] <= surface + tolerance_m)
    return seen


def mask_boxes(instance: np.ndarray, min_pixels: int = 1) -> dict[int, Box2D]:
    """Tight box of every instance id > 0 in an instance buffer, with its pixel count."""
    instance = np.asarray(instance)
    height, width = instance.shape
    boxes: dict[int, Box2D] = {}
    ids = np.unique(instance)
    for instance_id in ids[ids > 0]:
        rows, cols = np.nonzero(instance == instance_id)
        if len(rows) < min_pixels:
            continue
        x1, x2 = int(cols.min()), int(cols.max()) + 1
        y1, y2 = int(rows.min()), int(rows.max()) + 1
        truncated = x1 == 0 or y1 == 0 or x2 == width or y2 == height
        boxes[int(instance_id)] = Box2D(x1, y1, x2, y2, width, height, len(rows), truncated, "mask")
    return boxes


def projected_box(
    corners_world: np.ndarray,
    matrix: np.ndarray,
    camera_to_world: np.ndarray,
    width: int,
    height: int,
) -> Box2D | None:
    """The image box of a 3D box's projected outline, or None when it is out of view.

    Edges crossing the near plane are clipped there first, so a box the camera stands
    next to still gets a correct (truncated) box instead of one flipped through infinity.
    """
    cam = camera_points(corners_world, camera_to_world)
    points = [cam[i] for i in range(8) if cam[i, 2] >= NEAR_PLANE_M]
    clipped = len(points) < 8
    for i, j in _BOX_EDGES:
        a, b = cam[i], cam[j]
        if (a[2] - NEAR_PLANE_M) * (b[2] - NEAR_PLANE_M) < 0:
            t = (NEAR_PLANE_M - a[2]) / (b[2] - a[2])
            points.append(a + t * (b - a))
    if not points:
        return None
    pts = np.asarray(points)
    k = np.asarray(matrix, dtype=float)
    u = k[0, 0] * pts[:, 0] / pts[:, 2] + k[0, 2]
    v = k[1, 1] * pts[:, 1] / pts[:, 2] + k[1, 2]
    x1, x2, y1, y2 = u.min(), u.max(), v.min(), v.max()
    if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:
        return None
    truncated = clipped or x1 < 0 or y1 < 0 or x2 > width or y2 > height
    return Box2D(
        float(max(x1, 0.0)),
        float(max(y1, 0.0)),
        float(min(x2, width)),
        float(min(y2, height)),
        width,
        height,
        0,
        bool(truncated),
        "projection",
    )


def check_mode(mode: str) -> CoordinateMode:
    if mode not in COORDINATE_MODES:
        raise ValueError(f"coordinate mode {mode!r} is not one of {', '.join(COORDINATE_MODES)}")
    return mode  # type: ignore[return-value]


def to_coordinates(
    values: list[float], width: int, height: int, mode: CoordinateMode = "pixels"
) -> list[int]:
    """Pixel x, y pairs (a box or points, flattened) as the model writes them, rounded."""
    check_mode(mode)
    out = []
    for i, value in enumerate(values):
        if mode == "norm1000":
            value = value / (width if i % 2 == 0 else height) * 1000.0
        out.append(round(value))
    return out


def from_coordinates(
    values: list[float], width: int, height: int, mode: CoordinateMode = "pixels"
) -> list[float]:
    """The model's x, y pairs back in pixels of a width x height image."""
    check_mode(mode)
    if mode == "pixels":
        return [float(v) for v in values]
    return [float(v) / 1000.0 * (width if i % 2 == 0 else height) for i, v in enumerate(values)]
