"""Where furniture may go: inside the room, off door swings, never through anything else.

``Layout`` holds the objects placed so far and answers one question, ``fits``: is a
candidate box inside the floor outline and clear of every other box whose height
range it shares? Objects are yaw-only boxes, so that is a 2D footprint test plus a
z-interval test. The placement moves (against a wall, near a wall, in the open, on
top of a support) each draw candidates and keep the first that fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import Polygon

from scenes.procedural.catalog import KINDS
from scenes.procedural.rooms import RoomPlan
from scenes.render.meshes import OPENING_DEPTH

WALL_GAP = 0.01
"""Distance kept between a wall and the back of furniture standing against it (m)."""
OBJECT_GAP = 0.03
"""Least horizontal distance between two objects that share a height range (m)."""
CROWDED = 0.42
"""Floor fraction covered by furniture beyond which optional pieces are skipped."""


def footprint(x: float, y: float, width: float, depth: float, yaw: float) -> Polygon:
    c, s = math.cos(yaw), math.sin(yaw)
    corners = [
        (-width / 2, -depth / 2),
        (width / 2, -depth / 2),
        (width / 2, depth / 2),
        (-width / 2, depth / 2),
    ]
    return Polygon([(x + c * u - s * v, y + s * u + c * v) for u, v in corners])


def facing_yaw(direction: np.ndarray) -> float:
    """Yaw that turns an object's front (local +y) towards ``direction`` (xy)."""
    return math.atan2(direction[1], direction[0]) - math.pi / 2


@dataclass
class Placed:
    """One object being laid out: its box (yaw only) and what it stands on."""

    kind: str
    category: str
    center: tuple[float, float, float]
    extents: tuple[float, float, float]
    yaw: float
    support: int | None = None
    footprint: Polygon = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.footprint = footprint(
            self.center[0], self.center[1], self.extents[0], self.extents[1], self.yaw
        )

    @property
    def z0(self) -> float:
        return self.center[2] - self.extents[2] / 2

    @property
    def z1(self) -> float:
        return self.center[2] + self.extents[2] / 2

    def local_to_world(self, u: float, v: float) -> tuple[float, float]:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return (self.center[0] + c * u - s * v, self.center[1] + s * u + c * v)


@dataclass(frozen=True)
class Wall:
    start: np.ndarray
    direction: np.ndarray
    length: float

    @property
    def inward(self) -> np.ndarray:
        """Unit normal pointing into the room (the outline is counter-clockwise)."""
        return np.array([-self.direction[1], self.direction[0]])


class Layout:
    """The objects of one room as they are placed, with the checks that keep them plausible."""

    def __init__(self, plan: RoomPlan, rng: np.random.Generator) -> None:
        self.plan = plan
        self.rng = rng
        self.room = plan.polygon
        self.inside = self.room.buffer(-0.005, join_style="mitre")
        self.objects: list[Placed] = []
        self.reserved: list[Polygon] = []
        n = len(plan.outline)
        self.walls = []
        for i in range(n):
            start, end = np.array(plan.outline[i]), np.array(plan.outline[(i + 1) % n])
            length = float(np.linalg.norm(end - start))
            self.walls.append(Wall(start, (end - start) / length, length))
        self._add_openings()

    def _add_openings(self) -> None:
        """Doors and windows become thin objects on their walls; a door also keeps its swing free."""
        for opening in self.plan.openings:
            wall = self.walls[opening.wall]
            depth = OPENING_DEPTH[opening.kind]
            xy = wall.start + wall.direction * opening.offset + wall.inward * depth / 2
            centre = (float(xy[0]), float(xy[1]), opening.sill + opening.height / 2)
            extents = (opening.width, depth, opening.height)
            self.add(Placed(opening.kind, opening.kind, centre, extents, facing_yaw(wall.inward)))
            if opening.kind == "door":
                swing = wall.start + wall.direction * opening.offset + wall.inward * 0.5
                self.reserved.append(
                    footprint(
                        float(swing[0]),
                        float(swing[1]),
                        opening.width + 0.3,
                        1.0,
                        facing_yaw(wall.inward),
                    )
                )

    # -- checks ------------------------------------------------------------------------
    def fits(self, candidate: Placed, gap: float = OBJECT_GAP) -> bool:
        shape = candidate.footprint
        if candidate.z1 > self.plan.height - 0.05 or not self.inside.contains(shape):
            return False
        if candidate.support is None and any(zone.intersects(shape) for zone in self.reserved):
            return False
        if candidate.support is not None:
            top = self.objects[candidate.support].footprint.buffer(-0.01, join_style="mitre")
            if not top.contains(shape):
                return False
        for other in self.objects:
            shares_height = candidate.z0 < other.z1 - 1e-6 and other.z0 < candidate.z1 - 1e-6
            if shares_height and shape.distance(other.footprint) < gap:
                return False
        return True

    def floor_fraction(self) -> float:
        covered = sum(
            o.footprint.area
            for o in self.objects
            if o.support is None and o.category not in ("door", "window")
        )
        return covered / self.room.area

    def crowded(self) -> bool:
        return self.floor_fraction() > CROWDED

    def add(self, candidate: Placed) -> int:
        self.objects.append(candidate)
        return len(self.objects) - 1

    def try_add(self, candidate: Placed, gap: float = OBJECT_GAP) -> int | None:
        return self.add(candidate) if self.fits(candidate, gap) else None

    def count(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    # -- placement moves ---------------------------------------------------------------
    def against_wall(
        self,
        kind: str,
        extents: tuple[float, float, float] | None = None,
        tries: int = 40,
        set_back: tuple[float, float] = (WALL_GAP, WALL_GAP),
        under_window: bool = False,
    ) -> int | None:
        """Back to a wall, front facing into the room; ``set_back``: gap range to the wall."""
        spec = KINDS[kind]
        for _ in range(tries):
            size = extents or spec.sample_extents(self.rng)
            wall_index, along = self._spot_on_wall(size[0], under_window)
            if wall_index is None:
                continue
            wall = self.walls[wall_index]
            back = float(self.rng.uniform(*set_back)) + size[1] / 2
            xy = wall.start + wall.direction * along + wall.inward * back
            candidate = Placed(
                kind,
                spec.category,
                (float(xy[0]), float(xy[1]), size[2] / 2),
                size,
                facing_yaw(wall.inward),
            )
            if self.fits(candidate):
                return self.add(candidate)
        return None

    def _spot_on_wall(self, width: float, under_window: bool) -> tuple[int | None, float]:
        if under_window:
            windows = [
                o for o in self.plan.openings if o.kind == "window" and o.width >= width * 0.8
            ]
            if not windows:
                return None, 0.0
            window = windows[int(self.rng.integers(len(windows)))]
            return window.wall, window.offset
        lengths = np.array([w.length if w.length > width + 0.1 else 0.0 for w in self.walls])
        if lengths.sum() == 0:
            return None, 0.0
        index = int(self.rng.choice(len(self.walls), p=lengths / lengths.sum()))
        along = float(
            self.rng.uniform(width / 2 + 0.02, self.walls[index].length - width / 2 - 0.02)
        )
        return index, along

    def near_wall(self, kind: str, tries: int = 40) -> int | None:
        """Loose items (plants, bins, lamps, bags): close to a wall, turned to face the room."""
        return self.against_wall(kind, tries=tries, set_back=(0.03, 0.25))

    def in_open(
        self,
        kind: str,
        extents: tuple[float, float, float] | None = None,
        tries: int = 60,
        clearance: float = 0.0,
    ) -> int | None:
        """Anywhere on the floor, aligned with the walls; ``clearance``: free margin demanded around it."""
        spec = KINDS[kind]
        x0, y0, x1, y1 = self.room.bounds
        for _ in range(tries):
            size = extents or spec.sample_extents(self.rng)
            x, y = float(self.rng.uniform(x0, x1)), float(self.rng.uniform(y0, y1))
            yaw = float(self.rng.integers(4)) * math.pi / 2
            candidate = Placed(kind, spec.category, (x, y, size[2] / 2), size, yaw)
            if self.fits(candidate, gap=max(OBJECT_GAP, clearance)) and self._clear_of_walls(
                candidate, clearance
            ):
                return self.add(candidate)
        return None

    def _clear_of_walls(self, candidate: Placed, clearance: float) -> bool:
        return clearance <= 0 or self.room.buffer(-clearance, join_style="mitre").contains(
            candidate.footprint
        )

    def on_top(
        self, kind: str, supports: tuple[str, ...], tries: int = 30, support: int | None = None
    ) -> int | None:
        """On the top of a support (a table, desk, nightstand, ...), turned like the support."""
        spec = KINDS[kind]
        hosts = (
            [support]
            if support is not None
            else [i for i, o in enumerate(self.objects) if o.category in supports]
        )
        if not hosts:
            return None
        for _ in range(tries):
            index = hosts[int(self.rng.integers(len(hosts)))]
            host = self.objects[index]
            size = spec.sample_extents(self.rng)
            room_u, room_v = (
                (host.extents[0] - size[0]) / 2 - 0.02,
                (host.extents[1] - size[1]) / 2 - 0.02,
            )
            if room_u < 0 or room_v < 0:
                continue
            u, v = (
                float(self.rng.uniform(-room_u, room_u)),
                float(self.rng.uniform(-room_v, room_v)),
            )
            x, y = host.local_to_world(u, v)
            candidate = Placed(
                kind, spec.category, (x, y, host.z1 + size[2] / 2), size, host.yaw, support=index
            )
            if self.fits(candidate, gap=0.02):
                return self.add(candidate)
        return None

    def relative_to(
        self,
        anchor: int,
        kind: str,
        u: float,
        v: float,
        yaw_offset: float,
        extents: tuple[float, float, float] | None = None,
        gap: float = OBJECT_GAP,
    ) -> int | None:
        """At (u, v) in the anchor's local frame, turned by ``yaw_offset`` from it."""
        spec = KINDS[kind]
        host = self.objects[anchor]
        size = extents or spec.sample_extents(self.rng)
        x, y = host.local_to_world(u, v)
        candidate = Placed(kind, spec.category, (x, y, size[2] / 2), size, host.yaw + yaw_offset)
        return self.try_add(candidate, gap)
