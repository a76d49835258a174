"""Read-only access to a scene for ground-truth programs.

Built from the JSON dict form of a ``scenes.schema.Scene`` (``json.loads(scene.to_json())``),
so it needs neither pydantic nor any project package: the sandbox ships this folder alone.
Conventions: +z up, metres; a box is ``world = center + rotation @ local`` with the columns of
``rotation`` the box axes; camera poses are camera-to-world with OpenCV axes (+x right,
+y down, +z forward).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from .rules import CLEAR_CUT_MIN_FRACTION, CLEAR_MIN_FRACTION

_CORNER_SIGNS = np.array(
    [[sx, sy, sz] for sx in (-1.0, 1.0) for sy in (-1.0, 1.0) for sz in (-1.0, 1.0)]
)


class Ambiguous(Exception):
    """Raised by a ground-truth program when its answer is too close to call.

    The sandbox reports it as error kind 'ambiguous' and the proposal is dropped, which is
    better than training on a label that a millimetre of annotation noise could flip.
    """


def _frozen_array(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.array(values, dtype=float).reshape(shape)
    array.setflags(write=False)
    return array


def _normalise_category(category: str) -> str:
    return category.strip().lower()


@dataclass(frozen=True, eq=False)
class Object3D:
    """One object: an oriented box (``world = center + rotation @ local``), metres."""

    instance_id: int
    category: str
    center: np.ndarray  # (3,)
    extents: np.ndarray  # (3,) full side lengths along the box's own axes
    rotation: np.ndarray  # (3, 3) columns are the box axes in world coordinates
    support: int | None = None

    @cached_property
    def corners(self) -> np.ndarray:
        """The eight corners in world coordinates, shape (8, 3); corner i has sign bits x=4, y=2, z=1."""
        corners = self.center + (_CORNER_SIGNS * (self.extents / 2.0)) @ self.rotation.T
        corners.setflags(write=False)
        return corners

    @property
    def size(self) -> float:
        """Longest dimension (m): VSI-Bench's object size."""
        return float(np.max(self.extents))

    @property
    def volume(self) -> float:
        return float(np.prod(self.extents))

    @property
    def aabb_min(self) -> np.ndarray:
        return self.corners.min(axis=0)

    @property
    def aabb_max(self) -> np.ndarray:
        return self.corners.max(axis=0)

    @property
    def bottom_z(self) -> float:
        return float(self.aabb_min[2])

    @property
    def top_z(self) -> float:
        return float(self.aabb_max[2])

    @cached_property
    def footprint(self) -> np.ndarray:
        """Outline of the box seen from above: (k, 2) counter-clockwise xy points.

        k is 2 (a segment) or 1 for boxes that are flat when seen from above.
        """
        hull = MultiPoint([tuple(p) for p in self.corners[:, :2]]).convex_hull
        if isinstance(hull, Polygon):
            points = np.asarray(orient(hull, sign=1.0).exterior.coords)[:-1]
        else:
            points = np.asarray(hull.coords)
        points.setflags(write=False)
        return points

    @property
    def footprint_shape(self) -> BaseGeometry:
        """The footprint as a shapely geometry (a Polygon, or a LineString/Point if flat)."""
        return MultiPoint([tuple(p) for p in self.footprint]).convex_hull

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Object3D):
            return NotImplemented
        return self.instance_id == other.instance_id and self.category == other.category

    def __hash__(self) -> int:
        return hash((self.instance_id, self.category))

    def __repr__(self) -> str:
        center = ", ".join(f"{c:.2f}" for c in self.center)
        return f"Object3D({self.instance_id}, {self.category!r}, center=({center}), size={self.size:.2f})"


@dataclass(frozen=True, eq=False)
class Opening:
    """A door or window in wall ``wall`` (polygon vertex i to i+1), ``offset`` m along it."""

    kind: str
    wall: int
    offset: float
    width: float
    height: float
    sill: float = 0.0


@dataclass(frozen=True, eq=False)
class RoomView:
    """Room outline and size; ``area`` is the published value when the source gives one."""

    floor_polygon: np.ndarray  # (n, 2), counter-clockwise; empty (0, 2) for metadata-only scenes
    height: float
    area: float
    floor_z: float = 0.0
    openings: tuple[Opening, ...] = ()


@dataclass(frozen=True, eq=False)
class FrameView:
    """One camera frame: pose (camera-to-world, OpenCV axes) and per-instance pixel counts."""

    index: int
    timestamp: float
    camera_to_world: np.ndarray  # (4, 4)
    intrinsics: Mapping[str, float]  # width, height, fx, fy, cx, cy
    visible: Mapping[int, int] = field(default_factory=dict)  # instance id -> pixel count
    image_path: str | None = None
    boxes: Mapping[int, tuple[int, int, int, int]] = field(default_factory=dict)  # x0 y0 x1 y1
    kind: str = "walkthrough"  # or "orbit": an extra view around one object

    @property
    def position(self) -> np.ndarray:
        return self.camera_to_world[:3, 3].copy()

    @property
    def rotation(self) -> np.ndarray:
        """Camera-to-world rotation; columns are camera right, down, forward in world."""
        return self.camera_to_world[:3, :3].copy()

    @property
    def forward(self) -> np.ndarray:
        return self.camera_to_world[:3, 2].copy()

    def pixels(self, instance_id: int) -> int:
        return int(self.visible.get(int(instance_id), 0))

    @property
    def image_area(self) -> float:
        return max(self.intrinsics.get("width", 0.0) * self.intrinsics.get("height", 0.0), 1.0)

    def fraction(self, instance_id: int) -> float:
        """Share of the image the instance covers (0 when not visible)."""
        return self.pixels(instance_id) / self.image_area

    def box(self, instance_id: int) -> tuple[int, int, int, int] | None:
        """The instance's 2D box in pixels (x0, y0, x1, y1, inclusive), None when unknown."""
        box = self.boxes.get(int(instance_id))
        return None if box is None else (int(box[0]), int(box[1]), int(box[2]), int(box[3]))

    def is_cut(self, instance_id: int) -> bool:
        """Whether the instance's 2D box touches the image border (the object runs out of
        the picture); False when the frame records no boxes (older scene files)."""
        box = self.box(instance_id)
        if box is None:
            return False
        width = int(self.intrinsics.get("width", 0))
        height = int(self.intrinsics.get("height", 0))
        return box[0] <= 0 or box[1] <= 0 or box[2] >= width - 1 or box[3] >= height - 1

    def clearly_visible(self, instance_id: int) -> bool:
        """The project's one "clearly visible" rule: at least CLEAR_MIN_FRACTION (0.3 %) of
        the image, and at least CLEAR_CUT_MIN_FRACTION (2 %) when cut by the image border."""
        share = self.fraction(instance_id)
        needed = CLEAR_CUT_MIN_FRACTION if self.is_cut(instance_id) else CLEAR_MIN_FRACTION
        return share > 0 and share >= needed


def _object_from_dict(data: Mapping[str, Any]) -> Object3D:
    box = data["box"]
    return Object3D(
        instance_id=int(data["instance_id"]),
        category=_normalise_category(str(data["category"])),
        center=_frozen_array(box["center"], (3,)),
        extents=_frozen_array(box["extents"], (3,)),
        rotation=_frozen_array(box.get("rotation", np.eye(3)), (3, 3)),
        support=None if data.get("support") is None else int(data["support"]),
    )


def _room_from_dict(data: Mapping[str, Any]) -> RoomView:
    polygon = np.array(data.get("floor_polygon") or [], dtype=float).reshape(-1, 2)
    polygon.setflags(write=False)
    openings = tuple(
        Opening(
            kind=str(o["kind"]),
            wall=int(o["wall"]),
            offset=float(o["offset"]),
            width=float(o["width"]),
            height=float(o["height"]),
            sill=float(o.get("sill", 0.0)),
        )
        for o in data.get("openings") or ()
    )
    return RoomView(
        floor_polygon=polygon,
        height=float(data["height"]),
        area=float(data["area"]),
        floor_z=float(data.get("floor_z", 0.0)),
        openings=openings,
    )


def _frame_from_dict(data: Mapping[str, Any]) -> FrameView:
    visible = {int(k): int(v) for k, v in (data.get("visible") or {}).items()}
    return FrameView(
        index=int(data["index"]),
        timestamp=float(data.get("timestamp", 0.0)),
        camera_to_world=_frozen_array(data["camera_to_world"], (4, 4)),
        intrinsics=MappingProxyType({k: float(v) for k, v in data["intrinsics"].items()}),
        visible=MappingProxyType(visible),
        image_path=data.get("image_path"),
        boxes=MappingProxyType(
            {int(k): tuple(int(v) for v in box) for k, box in (data.get("boxes") or {}).items()}
        ),
        kind=str(data.get("kind") or "walkthrough"),
    )


class SceneView:
    """Read-only scene for ``solve(scene)``: objects, counts, room, frames, visibility.

    ``SceneView(json.loads(scene.to_json()))``; a pydantic ``Scene`` is accepted too.
    Categories are matched lower-case. Counts follow ``declared_counts`` where the source
    publishes them (as VSI-Bench's counting answers do), else the number of boxes.
    """

    def __init__(self, data: Mapping[str, Any] | Any) -> None:
        if not isinstance(data, Mapping) and hasattr(data, "model_dump"):
            data = data.model_dump(mode="json")
        self.id: str = str(data["id"])
        self.source: str = str(data.get("source", "unknown"))
        self.room: RoomView = _room_from_dict(data["room"])
        self.objects: tuple[Object3D, ...] = tuple(
            _object_from_dict(o) for o in data.get("objects") or ()
        )
        frames = sorted((_frame_from_dict(f) for f in data.get("frames") or ()), key=_frame_key)
        # `frames` is the walkthrough video; orbit views are looked up by index or listed apart
        self.frames: tuple[FrameView, ...] = tuple(f for f in frames if f.kind == "walkthrough")
        self.orbit_frames: tuple[FrameView, ...] = tuple(f for f in frames if f.kind == "orbit")
        declared = data.get("declared_counts") or {}
        self.declared_counts: Mapping[str, int] = MappingProxyType(
            {_normalise_category(k): int(v) for k, v in declared.items()}
        )
        self._by_id = {o.instance_id: o for o in self.objects}
        self._frames_by_index = {f.index: f for f in frames}

    def __repr__(self) -> str:
        return f"SceneView({self.id!r}, {len(self.objects)} objects, {len(self.frames)} frames)"

    # -- objects ------------------------------------------------------------------------
    def object(self, instance_id: int) -> Object3D:
        """The object with this instance id (KeyError if none)."""
        try:
            return self._by_id[int(instance_id)]
        except KeyError:
            raise KeyError(f"scene {self.id} has no instance {instance_id}") from None

    def objects_of(self, category: str) -> list[Object3D]:
        """All boxes of a category, in instance-id order (may be empty)."""
        wanted = _normalise_category(category)
        return sorted(
            (o for o in self.objects if o.category == wanted), key=lambda o: o.instance_id
        )

    def categories(self) -> list[str]:
        """Every category with a box or a published count, sorted."""
        return sorted({o.category for o in self.objects} | set(self.declared_counts))

    def count(self, category: str) -> int:
        """How many of a category: the published count if any, else the number of boxes."""
        wanted = _normalise_category(category)
        if wanted in self.declared_counts:
            return int(self.declared_counts[wanted])
        return len(self.objects_of(wanted))

    def counts(self) -> dict[str, int]:
        """Category -> count for every category (published counts win)."""
        return {c: self.count(c) for c in self.categories()}

    def has(self, category: str) -> bool:
        return self.count(category) > 0

    def is_unique(self, category: str) -> bool:
        """Exactly one box and (where published) a count of one: safe to name it 'the X'."""
        return len(self.objects_of(category)) == 1 and self.count(category) == 1

    def unique(self, category: str) -> Object3D:
        """The single object of a category; raises Ambiguous when there are none or several."""
        boxes = self.objects_of(category)
        count = self.count(category)
        if len(boxes) != 1 or count != 1:
            raise Ambiguous(
                f"'{category}' is not unique in {self.id}: {len(boxes)} boxes, count {count}"
            )
        return boxes[0]

    def unique_categories(self) -> list[str]:
        """Categories that name exactly one object (usable as 'the X' in questions)."""
        return [c for c in self.categories() if self.is_unique(c)]

    # -- frames and visibility ----------------------------------------------------------
    def frame(self, index: int) -> FrameView:
        """The frame with this index, walkthrough or orbit view (KeyError if none)."""
        try:
            return self._frames_by_index[int(index)]
        except KeyError:
            raise KeyError(f"scene {self.id} has no frame {index}") from None

    def has_frame(self, index: int) -> bool:
        return int(index) in self._frames_by_index

    def pixels(self, instance: int | Object3D, frame_index: int) -> int:
        """Pixels of an instance in a frame (0 when not visible)."""
        return self.frame(frame_index).pixels(_instance_id(instance))

    def frames_showing(
        self, instance: int | Object3D, min_pixels: int = 1, clearly: bool = False
    ) -> list[int]:
        """Frame indices in which the instance covers at least ``min_pixels`` pixels (and,
        with ``clearly=True``, is clearly visible: ``FrameView.clearly_visible``)."""
        instance_id = _instance_id(instance)
        return [
            f.index
            for f in self.frames
            if f.pixels(instance_id) >= min_pixels
            and (not clearly or f.clearly_visible(instance_id))
        ]

    def visible_in(self, frame_index: int, min_pixels: int = 1) -> list[Object3D]:
        """Objects covering at least ``min_pixels`` pixels in a frame, by instance id."""
        frame = self.frame(frame_index)
        ids = sorted(i for i, n in frame.visible.items() if n >= min_pixels and i in self._by_id)
        return [self._by_id[i] for i in ids]


def _frame_key(frame: FrameView) -> int:
    return frame.index


def _instance_id(instance: int | Object3D) -> int:
    return instance.instance_id if isinstance(instance, Object3D) else int(instance)
