"""The scene record every part of the loop reads: room, objects, camera frames.

Conventions (fixed for every source):
- world frame: +z up, metres;
- an oriented box is ``world = center + rotation @ local`` with ``local`` inside
  ``[-extents/2, +extents/2]``; the columns of ``rotation`` are the box axes in world
  coordinates, and ``extents`` are full side lengths along those axes;
- a camera pose is camera-to-world (4x4), camera axes as in OpenCV: +x right, +y down,
  +z forward (the viewing direction);
- image, instance and depth paths are relative to the scene folder (``frames/...``).

A scene is saved as ``scene.json`` beside a ``frames/`` folder and loads back equal.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.io import atomic_write_text
from scenes.errors import SceneDataError

SCENE_FILE = "scene.json"
FRAMES_DIR = "frames"
SCHEMA_VERSION = 1

SceneSource = Literal["procedural", "vsibench-meta", "scannet", "arkitscenes"]
FrameKind = Literal["walkthrough", "orbit"]

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Mat3 = tuple[Vec3, Vec3, Vec3]
Mat4 = tuple[
    tuple[float, float, float, float],
    tuple[float, float, float, float],
    tuple[float, float, float, float],
    tuple[float, float, float, float],
]

IDENTITY3: Mat3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
# Far beyond any room, far below where float arithmetic on coordinates overflows (1e308).
MAX_COORDINATE_M = 1e4
MIN_FLOOR_AREA_M2 = 1e-6


def _finite(values: object, what: str) -> None:
    flat = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{what} must be finite numbers, got {values!r}")


def _bounded(values: object, what: str) -> None:
    """Finite and within MAX_COORDINATE_M: 1e308 is finite, but squaring it is not."""
    _finite(values, what)
    if np.any(np.abs(np.asarray(values, dtype=float)) > MAX_COORDINATE_M):
        raise ValueError(
            f"{what} must lie within +-{MAX_COORDINATE_M:g} m, got {values!r}; "
            "check the source's units (metres expected)"
        )


class Record(BaseModel):
    """Base for scene records: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OrientedBox(Record):
    center: Vec3 = Field(description="Box centre in world coordinates (m).")
    extents: Vec3 = Field(description="Full side lengths along the box's own axes (m).")
    rotation: Mat3 = Field(
        default=IDENTITY3,
        description="Row-major 3x3 rotation; its columns are the box axes in world coordinates.",
    )

    @model_validator(mode="after")
    def _check(self) -> OrientedBox:
        _bounded(self.center, "box center")
        _bounded(self.extents, "box extents")
        _finite(self.rotation, "box rotation")
        if min(self.extents) <= 0:
            raise ValueError(
                f"box extents must be > 0 (a box of zero size has no volume or faces), "
                f"got {self.extents}"
            )
        r = np.asarray(self.rotation, dtype=float)
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-3):
            raise ValueError("box rotation must be orthonormal (R @ R.T == I within 1e-3)")
        return self

    @property
    def rotation_matrix(self) -> np.ndarray:
        return np.asarray(self.rotation, dtype=float)

    def corners(self) -> np.ndarray:
        """The eight corners in world coordinates, shape (8, 3)."""
        half = np.asarray(self.extents, dtype=float) / 2.0
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        return np.asarray(self.center) + (signs * half) @ self.rotation_matrix.T

    def axis_aligned_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        corners = self.corners()
        return corners.min(axis=0), corners.max(axis=0)


class SceneObject(Record):
    instance_id: int = Field(
        ge=0, description="Unique within the scene; 0 is never used by renderers (background)."
    )
    category: str = Field(min_length=1, description="Lower-case category name, e.g. 'chair'.")
    box: OrientedBox
    support: int | None = Field(
        default=None, description="Instance id of the object this one rests on (None: the floor)."
    )

    @field_validator("category")
    @classmethod
    def _normalise(cls, value: str) -> str:
        category = " ".join(value.split()).lower()
        if not category:
            raise ValueError(f"category is blank ({value!r}); name the object, e.g. 'chair'")
        return category


class Opening(Record):
    """A door or window cut into a wall segment of the floor polygon."""

    kind: Literal["door", "window"]
    wall: int = Field(ge=0, description="Index i of the wall from polygon vertex i to vertex i+1.")
    offset: float = Field(
        ge=0, description="Distance of the opening's centre from vertex i along the wall (m)."
    )
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    sill: float = Field(
        default=0.0, ge=0, description="Height of the opening's bottom above the floor (m)."
    )


class Room(Record):
    floor_polygon: tuple[Vec2, ...] = Field(
        description="Floor outline in the xy plane, counter-clockwise, no repeated last vertex. "
        "Empty for metadata-only sources that publish no outline."
    )
    height: float = Field(gt=0, description="Floor to ceiling (m).")
    area: float = Field(
        gt=0, description="Floor area (m^2); the published value where a source states one."
    )
    floor_z: float = Field(default=0.0, description="z of the floor plane (m).")
    openings: tuple[Opening, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Room:
        _bounded(self.floor_polygon, "floor polygon")
        if self.floor_polygon and len(self.floor_polygon) < 3:
            raise ValueError("floor polygon needs at least 3 vertices (or none at all)")
        if self.floor_polygon:
            _check_floor_outline(self.floor_polygon)
        if not math.isfinite(self.area) or not math.isfinite(self.height):
            raise ValueError("room area and height must be finite")
        for opening in self.openings:
            if opening.wall >= max(len(self.floor_polygon), 1):
                raise ValueError(
                    f"opening on wall {opening.wall} but the polygon has {len(self.floor_polygon)} walls"
                )
        return self


def _check_floor_outline(polygon: tuple[Vec2, ...]) -> None:
    """A floor must enclose an area and not cross itself (geometry relies on both)."""
    from shapely.geometry import Polygon
    from shapely.validation import explain_validity

    outline = Polygon(polygon)
    points = np.asarray(polygon, dtype=float)
    collinear = np.linalg.matrix_rank(points - points.mean(axis=0), tol=1e-9) < 2
    if collinear or (outline.is_valid and outline.area < MIN_FLOOR_AREA_M2):
        raise ValueError(
            f"floor polygon is degenerate: its {len(polygon)} vertices enclose no area "
            "(collinear or repeated points)"
        )
    if not outline.is_valid:
        raise ValueError(
            f"floor polygon is not a simple outline: {explain_validity(outline)}; "
            "list the vertices in order around the room, without crossings"
        )


class CameraIntrinsics(Record):
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], dtype=float)


class Frame(Record):
    index: int = Field(ge=0, description="Position in the trajectory (0-based).")
    kind: FrameKind = Field(
        default="walkthrough",
        description="'walkthrough': a frame of the video; 'orbit': an extra view around one "
        "object (viewpoint pairs), listed after the walkthrough and skipped by video tasks.",
    )
    timestamp: float = Field(ge=0, description="Seconds since the start of the video.")
    intrinsics: CameraIntrinsics
    camera_to_world: Mat4 = Field(
        description="Row-major 4x4 pose, OpenCV camera axes (+z forward, +y down)."
    )
    image_path: str | None = Field(
        default=None, description="RGB image, relative to the scene folder."
    )
    instance_path: str | None = Field(
        default=None, description="Per-pixel instance ids (16-bit PNG)."
    )
    depth_path: str | None = Field(default=None, description="Depth in millimetres (16-bit PNG).")
    visible: dict[int, int] = Field(
        default_factory=dict,
        description="Instance id -> number of pixels showing it in this frame.",
    )
    boxes: dict[int, tuple[int, int, int, int]] | None = Field(
        default=None,
        description="Instance id -> 2D box (x0, y0, x1, y1, inclusive pixels) of the pixels "
        "showing it, from the instance buffer; a box touching the image border means the "
        "object is cut by it. None in scene files written before boxes were recorded.",
    )

    @model_validator(mode="after")
    def _check(self) -> Frame:
        _finite(self.camera_to_world, "camera_to_world")
        pose = np.asarray(self.camera_to_world, dtype=float)
        if not np.allclose(pose[3], [0, 0, 0, 1]):
            raise ValueError("camera_to_world's last row must be [0, 0, 0, 1]")
        for instance_id, (x0, y0, x1, y1) in (self.boxes or {}).items():
            inside = (
                0 <= x0 <= x1 < self.intrinsics.width and 0 <= y0 <= y1 < self.intrinsics.height
            )
            if not inside:
                raise ValueError(
                    f"frame {self.index}: box of instance {instance_id} ({x0}, {y0}, {x1}, {y1}) "
                    f"is not inside the {self.intrinsics.width}x{self.intrinsics.height} image"
                )
        return self

    @property
    def pose(self) -> np.ndarray:
        return np.asarray(self.camera_to_world, dtype=float)

    @property
    def position(self) -> np.ndarray:
        return self.pose[:3, 3].copy()

    @property
    def forward(self) -> np.ndarray:
        """Viewing direction in world coordinates (camera +z)."""
        return self.pose[:3, 2].copy()


class Scene(Record):
    schema_version: int = SCHEMA_VERSION
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    source: SceneSource
    up_axis: Literal["+z"] = "+z"
    units: Literal["m"] = "m"
    room: Room
    objects: tuple[SceneObject, ...]
    frames: tuple[Frame, ...] = ()
    declared_counts: dict[str, int] | None = Field(
        default=None,
        description="Per-category counts as the source publishes them, when they differ from or "
        "stand beside the boxes (VSI-Bench's object_counts). Counting questions use these.",
    )
    provenance: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        description="Where the scene came from: generator seed and version, source file, ...",
    )

    @model_validator(mode="after")
    def _check(self) -> Scene:
        ids = [o.instance_id for o in self.objects]
        if len(ids) != len(set(ids)):
            raise ValueError("object instance ids must be unique")
        if self.id in (".", ".."):
            raise ValueError(f"scene id {self.id!r} is not a folder name; use letters and digits")
        indices = [frame.index for frame in self.frames]
        if len(indices) != len(set(indices)):
            repeated = sorted({i for i in indices if indices.count(i) > 1})
            raise ValueError(f"frame indices must be unique; repeated: {repeated[:10]}")
        known = set(ids)
        for frame in self.frames:
            unknown = (set(frame.visible) | set(frame.boxes or {})) - known
            if unknown:
                raise ValueError(f"frame {frame.index} lists unknown instances {sorted(unknown)}")
        return self

    # -- convenience -------------------------------------------------------------------
    @property
    def has_frames(self) -> bool:
        return bool(self.frames) and all(f.image_path for f in self.frames)

    @property
    def walkthrough_frames(self) -> tuple[Frame, ...]:
        """The video's frames, without orbit views: what frame sampling and video tasks use."""
        return tuple(f for f in self.frames if f.kind == "walkthrough")

    @property
    def orbit_frames(self) -> tuple[Frame, ...]:
        """Extra views around single objects, in pairs (viewpoint tasks)."""
        return tuple(f for f in self.frames if f.kind == "orbit")

    def object(self, instance_id: int) -> SceneObject:
        for obj in self.objects:
            if obj.instance_id == instance_id:
                return obj
        raise KeyError(f"scene {self.id} has no instance {instance_id}")

    def categories(self) -> dict[str, int]:
        """Category -> count; published counts win where the source gives them."""
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj.category] = counts.get(obj.category, 0) + 1
        if self.declared_counts:
            counts.update(self.declared_counts)
        return dict(sorted(counts.items()))

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"

    def save(self, scene_dir: str | Path) -> Path:
        """Write ``scene.json`` into ``scene_dir`` atomically (frames are written by their producer)."""
        scene_dir = Path(scene_dir)
        scene_dir.mkdir(parents=True, exist_ok=True)
        path = scene_dir / SCENE_FILE
        atomic_write_text(path, self.to_json())
        return path

    @classmethod
    def load(cls, scene_dir: str | Path, *, check_files: bool = True) -> Scene:
        """Load ``scene.json`` from a scene folder (or the file itself); with `check_files`,
        every frame file it names must exist (a missing image is one clear error here, not
        a crash in rendering or training later)."""
        path = Path(scene_dir)
        if path.is_dir():
            path = path / SCENE_FILE
        if not path.exists():
            raise SceneDataError(
                path,
                SCENE_FILE,
                "file not found",
                "point at a folder made by 'ouroboros scenes generate' or 'import'",
            )
        try:
            scene = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as error:
            field = _first_error_location(error)
            raise SceneDataError(path, field, _first_error_message(error)) from error
        if check_files:
            scene.check_frame_files(path.parent, path)
        return scene

    def check_frame_files(self, scene_dir: Path, report_as: Path) -> None:
        """Every image the frames name must exist under `scene_dir`, inside it."""
        root = scene_dir.resolve()
        for position, frame in enumerate(self.frames):
            for kind in ("image_path", "instance_path", "depth_path"):
                relative = getattr(frame, kind)
                if relative is None:
                    continue
                target = (scene_dir / relative).resolve()
                if not target.is_relative_to(root):
                    raise SceneDataError(
                        report_as,
                        f"frames.{position}.{kind}",
                        f"{relative!r} points outside the scene folder",
                        "frame files are relative paths inside the scene folder",
                    )
                if not target.is_file():
                    raise SceneDataError(
                        report_as,
                        f"frames.{position}.{kind}",
                        f"frame {frame.index}'s file {relative} is missing on disk",
                        "re-render or re-import the scene, or drop the frame",
                    )


def _first_error_location(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        items = errors()
        if items:
            return ".".join(str(part) for part in items[0].get("loc", ())) or "<root>"
    return "<root>"


def _first_error_message(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        items = errors()
        if items:
            return str(items[0].get("msg", error))
    return str(error)


def list_scene_dirs(root: str | Path) -> list[Path]:
    """Scene folders under `root` (itself, or its children holding scene.json), sorted."""
    root = Path(root)
    if (root / SCENE_FILE).exists():
        return [root]
    return sorted(p.parent for p in root.glob(f"*/{SCENE_FILE}"))
