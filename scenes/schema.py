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

from scenes.errors import SceneDataError
from scenes.io import atomic_write_text

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


def _finite(values: object, what: str) -> None:
    flat = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{what} must be finite numbers, got {values!r}")


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
        _finite(self.center, "box center")
        _finite(self.extents, "box extents")
        _finite(self.rotation, "box rotation")
        if min(self.extents) < 0:
            raise ValueError(f"box extents must be >= 0, got {self.extents}")
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
        return value.strip().lower()


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
        _finite(self.floor_polygon, "floor polygon")
        if self.floor_polygon and len(self.floor_polygon) < 3:
            raise ValueError("floor polygon needs at least 3 vertices (or none at all)")
        if not math.isfinite(self.area) or not math.isfinite(self.height):
            raise ValueError("room area and height must be finite")
        for opening in self.openings:
            if opening.wall >= max(len(self.floor_polygon), 1):
                raise ValueError(
                    f"opening on wall {opening.wall} but the polygon has {len(self.floor_polygon)} walls"
                )
        return self


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

    @model_validator(mode="after")
    def _check(self) -> Frame:
        _finite(self.camera_to_world, "camera_to_world")
        pose = np.asarray(self.camera_to_world, dtype=float)
        if not np.allclose(pose[3], [0, 0, 0, 1]):
            raise ValueError("camera_to_world's last row must be [0, 0, 0, 1]")
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
        known = set(ids)
        for frame in self.frames:
            unknown = set(frame.visible) - known
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
    def load(cls, scene_dir: str | Path) -> Scene:
        """Load ``scene.json`` from a scene folder (or the file itself)."""
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
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as error:
            field = _first_error_location(error)
            raise SceneDataError(path, field, _first_error_message(error)) from error


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
