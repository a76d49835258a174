"""Furniture the generator can place: category, realistic size ranges, what it may rest on.

A *kind* is a use of a category with its own size range ("coffee table" and "dining
table" are both category ``table``). Sizes are full extents in metres along the
object's own axes: width (x, side to side), depth (y, back to front), height (z).
Ranges follow common catalogue dimensions of real furniture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Range = tuple[float, float]


@dataclass(frozen=True)
class Kind:
    """One kind of object: its category and the ranges its extents are drawn from."""

    name: str
    category: str
    width: Range
    depth: Range
    height: Range
    round: bool = False  # depth equals width (pots, bins, stools, lamps)

    def sample_extents(self, rng: np.random.Generator) -> tuple[float, float, float]:
        """Extents rounded to whole centimetres, so scene files read naturally."""
        width = float(rng.uniform(*self.width))
        depth = width if self.round else float(rng.uniform(*self.depth))
        height = float(rng.uniform(*self.height))
        return (round(width, 2), round(depth, 2), round(height, 2))


_KINDS = (
    Kind("chair", "chair", (0.42, 0.52), (0.46, 0.56), (0.80, 0.98)),
    Kind("armchair", "armchair", (0.72, 0.92), (0.72, 0.88), (0.76, 0.92)),
    Kind("stool", "stool", (0.32, 0.42), (0.32, 0.42), (0.45, 0.75), round=True),
    Kind("dining table", "table", (1.10, 1.80), (0.75, 1.00), (0.72, 0.77)),
    Kind("meeting table", "table", (1.80, 2.60), (0.90, 1.20), (0.72, 0.76)),
    Kind("coffee table", "table", (0.80, 1.20), (0.45, 0.65), (0.38, 0.48)),
    Kind("desk", "desk", (1.00, 1.60), (0.58, 0.78), (0.72, 0.76)),
    Kind("sofa", "sofa", (1.60, 2.30), (0.82, 0.98), (0.78, 0.92)),
    Kind("bed", "bed", (0.95, 1.85), (1.95, 2.15), (0.48, 0.60)),
    Kind("nightstand", "nightstand", (0.40, 0.55), (0.35, 0.45), (0.48, 0.62)),
    Kind("floor lamp", "lamp", (0.30, 0.45), (0.30, 0.45), (1.40, 1.75), round=True),
    Kind("table lamp", "lamp", (0.20, 0.30), (0.20, 0.30), (0.35, 0.55), round=True),
    Kind("tv", "tv", (0.80, 1.40), (0.18, 0.26), (0.52, 0.86)),
    Kind("tv stand", "tv stand", (1.20, 1.80), (0.38, 0.48), (0.40, 0.55)),
    Kind("monitor", "monitor", (0.50, 0.68), (0.18, 0.22), (0.38, 0.50)),
    Kind("keyboard", "keyboard", (0.42, 0.46), (0.13, 0.16), (0.02, 0.035)),
    Kind("laptop", "laptop", (0.30, 0.38), (0.22, 0.26), (0.20, 0.24)),
    Kind("cabinet", "cabinet", (0.60, 1.20), (0.40, 0.55), (0.75, 1.10)),
    Kind("bookshelf", "bookshelf", (0.60, 1.20), (0.28, 0.38), (1.20, 2.00)),
    Kind("wardrobe", "wardrobe", (1.00, 2.00), (0.55, 0.65), (1.90, 2.20)),
    Kind("floor plant", "plant", (0.35, 0.60), (0.35, 0.60), (0.70, 1.50), round=True),
    Kind("small plant", "plant", (0.15, 0.25), (0.15, 0.25), (0.20, 0.40), round=True),
    Kind("toilet", "toilet", (0.36, 0.42), (0.64, 0.74), (0.75, 0.84)),
    Kind("sink", "sink", (0.50, 0.90), (0.42, 0.55), (0.84, 0.95)),
    Kind("bathtub", "bathtub", (1.50, 1.80), (0.70, 0.80), (0.50, 0.60)),
    Kind("refrigerator", "refrigerator", (0.60, 0.90), (0.62, 0.75), (1.60, 1.90)),
    Kind("counter", "counter", (1.20, 2.40), (0.60, 0.65), (0.88, 0.92)),
    Kind("microwave", "microwave", (0.45, 0.55), (0.32, 0.40), (0.26, 0.32)),
    Kind("trash bin", "trash bin", (0.25, 0.40), (0.25, 0.40), (0.30, 0.65), round=True),
    Kind("pillow", "pillow", (0.45, 0.65), (0.30, 0.42), (0.10, 0.16)),
    Kind("backpack", "backpack", (0.28, 0.35), (0.16, 0.25), (0.40, 0.50)),
    Kind("printer", "printer", (0.40, 0.50), (0.35, 0.45), (0.20, 0.30)),
    Kind("radiator", "radiator", (0.60, 1.40), (0.08, 0.12), (0.40, 0.62)),
    Kind("washing machine", "washing machine", (0.58, 0.62), (0.55, 0.65), (0.82, 0.86)),
    Kind("clock", "clock", (0.12, 0.20), (0.06, 0.10), (0.12, 0.20)),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _KINDS}

SUPPORT_CATEGORIES: frozenset[str] = frozenset(
    {"table", "desk", "nightstand", "cabinet", "tv stand", "counter", "bed"}
)
"""Categories whose top other objects may rest on."""

#: Categories whose local +y is a front people would name (the generator's convention).
FRONTED_CATEGORIES: frozenset[str] = frozenset(
    {
        "armchair",
        "bed",
        "bookshelf",
        "cabinet",
        "chair",
        "desk",
        "microwave",
        "monitor",
        "nightstand",
        "printer",
        "refrigerator",
        "sink",
        "sofa",
        "toilet",
        "tv",
        "tv stand",
        "wardrobe",
        "washing machine",
    }
)


def furniture_categories() -> list[str]:
    """Every category the generator can place (doors and windows come from the room)."""
    return sorted({kind.category for kind in _KINDS})
