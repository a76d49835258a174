"""Room shells: a room type, a floor outline (rectangle or L), a height, doors and windows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from shapely.geometry import Polygon

from scenes.schema import Opening

RoomType = Literal[
    "bedroom", "living room", "office", "kitchen", "bathroom", "dining room", "meeting room"
]

AREA_RANGES: dict[str, tuple[float, float]] = {
    "bedroom": (10.0, 22.0),
    "living room": (16.0, 45.0),
    "office": (12.0, 40.0),
    "kitchen": (10.0, 24.0),
    "bathroom": (8.0, 13.0),
    "dining room": (14.0, 32.0),
    "meeting room": (20.0, 60.0),
}
"""Floor area (m^2) drawn per room type; all within the 8 to 60 m^2 the generator promises."""

ROOM_WEIGHTS: dict[str, float] = {
    "bedroom": 0.2,
    "living room": 0.2,
    "office": 0.18,
    "kitchen": 0.12,
    "bathroom": 0.08,
    "dining room": 0.12,
    "meeting room": 0.1,
}

MIN_ARM = 1.9
"""Narrowest a room or an arm of an L-shaped room may be (m)."""


@dataclass(frozen=True)
class RoomPlan:
    room_type: str
    shape: Literal["rectangle", "l-shape"]
    outline: list[tuple[float, float]]  # counter-clockwise, centimetre-rounded
    height: float
    openings: list[Opening]

    @property
    def polygon(self) -> Polygon:
        return Polygon(self.outline)

    @property
    def area(self) -> float:
        return float(self.polygon.area)


def _rectangle(rng: np.random.Generator, area: float) -> list[tuple[float, float]]:
    aspect = rng.uniform(1.0, 1.9)
    width = max(MIN_ARM + 0.4, math.sqrt(area * aspect))
    depth = max(MIN_ARM + 0.4, area / width)
    if rng.random() < 0.5:
        width, depth = depth, width
    return [(0.0, 0.0), (width, 0.0), (width, depth), (0.0, depth)]


def _l_shape(rng: np.random.Generator, area: float) -> list[tuple[float, float]]:
    """A rectangle with one corner cut away, turned by a random quarter turn."""
    cut_x, cut_y = rng.uniform(0.3, 0.5), rng.uniform(0.3, 0.5)
    aspect = rng.uniform(1.0, 1.6)
    bounding = area / (1.0 - cut_x * cut_y)
    width = math.sqrt(bounding * aspect)
    depth = bounding / width
    cw = min(cut_x * width, width - MIN_ARM)
    cd = min(cut_y * depth, depth - MIN_ARM)
    points = np.array(
        [
            (0, 0),
            (width, 0),
            (width, depth - cd),
            (width - cw, depth - cd),
            (width - cw, depth),
            (0, depth),
        ],
        dtype=float,
    )
    turns = int(rng.integers(4))
    angle = turns * math.pi / 2
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    points = points @ rotation.T
    points -= points.min(axis=0)
    return [(float(x), float(y)) for x, y in points]


def _fit_area(
    outline: list[tuple[float, float]], low: float = 8.0, high: float = 60.0
) -> list[tuple[float, float]]:
    """Scale the outline about the origin so its area lies within [low, high]."""
    area = Polygon(outline).area
    target = min(max(area, low * 1.02), high * 0.98)
    scale = math.sqrt(target / area)
    return [(x * scale, y * scale) for x, y in outline]


def _rounded(outline: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(round(x, 2) + 0.0, round(y, 2) + 0.0) for x, y in outline]


def _wall_lengths(outline: list[tuple[float, float]]) -> list[float]:
    return [math.dist(outline[i], outline[(i + 1) % len(outline)]) for i in range(len(outline))]


def _place_openings(
    rng: np.random.Generator,
    outline: list[tuple[float, float]],
    height: float,
    room_type: str,
    area: float,
) -> list[Opening]:
    lengths = _wall_lengths(outline)
    taken: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(outline))}
    openings: list[Opening] = []

    def add(
        kind: Literal["door", "window"], width: float, tall: float, sill: float, walls: list[int]
    ) -> None:
        for _ in range(30):
            wall = int(rng.choice(walls))
            margin = 0.15 + width / 2
            if lengths[wall] < 2 * margin:
                continue
            offset = round(float(rng.uniform(margin, lengths[wall] - margin)), 2)
            span = (offset - width / 2 - 0.25, offset + width / 2 + 0.25)
            if any(span[0] < hi and lo < span[1] for lo, hi in taken[wall]):
                continue
            taken[wall].append(span)
            openings.append(
                Opening(kind=kind, wall=wall, offset=offset, width=width, height=tall, sill=sill)
            )
            return

    all_walls = [i for i, length in enumerate(lengths) if length >= 1.3]
    doors = 1 + int(area > 30 and rng.random() < 0.4)
    for _ in range(doors):
        width = round(float(rng.uniform(0.80, 0.95)), 2)
        add(
            "door", width, round(float(min(rng.uniform(2.0, 2.1), height - 0.2)), 2), 0.0, all_walls
        )
    door_walls = {o.wall for o in openings}
    window_walls = [i for i in all_walls if i not in door_walls] or all_walls
    low, high = (0, 1) if room_type == "bathroom" else (1, 3 + int(area > 25))
    for _ in range(int(rng.integers(low, high + 1))):
        sill = round(float(rng.uniform(0.75, 1.0)), 2)
        tall = round(float(min(rng.uniform(0.9, 1.5), height - 0.15 - sill)), 2)
        width = round(float(rng.uniform(0.6, 1.8)), 2)
        add("window", width, tall, sill, window_walls)
    return openings


def make_room(rng: np.random.Generator) -> RoomPlan:
    """Draw a room type, then its outline, height and openings."""
    types = list(ROOM_WEIGHTS)
    weights = np.array([ROOM_WEIGHTS[t] for t in types])
    room_type = types[int(rng.choice(len(types), p=weights / weights.sum()))]
    area = float(rng.uniform(*AREA_RANGES[room_type]))
    l_shaped = area >= 14.0 and rng.random() < 0.35
    outline = _rounded(_fit_area(_l_shape(rng, area) if l_shaped else _rectangle(rng, area)))
    height = round(float(rng.uniform(2.4, 3.0)), 2)
    openings = _place_openings(rng, outline, height, room_type, area)
    return RoomPlan(room_type, "l-shape" if l_shaped else "rectangle", outline, height, openings)
