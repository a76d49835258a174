"""What goes into each room type, in the order it is placed (anchors first, clutter last).

Each program places its anchor pieces unconditionally and the rest only while the floor
is not crowded, so every room keeps open floor for the camera to walk through. Several
categories come in multiples (chairs, plants, bins, pillows, monitors, lamps) so that
counting questions have something to count.
"""

from __future__ import annotations

from collections.abc import Callable

from scenes.procedural.groups import (
    bed_with_nightstands,
    desk_with_chair,
    sofa_with_table,
    table_with_chairs,
    tv_on_stand,
)
from scenes.procedural.placement import Layout


def _some(layout: Layout, low: int, high: int, place: Callable[[], object]) -> None:
    """Place between ``low`` and ``high`` items while the room has floor to spare."""
    for _ in range(layout.count(low, high)):
        if layout.crowded():
            return
        place()


def _clutter(
    layout: Layout, plants: tuple[int, int] = (0, 2), bins: tuple[int, int] = (0, 1)
) -> None:
    _some(layout, *plants, lambda: layout.near_wall("floor plant"))
    _some(layout, *bins, lambda: layout.near_wall("trash bin"))
    _some(layout, 0, 1, lambda: layout.against_wall("radiator", under_window=True))


def bedroom(layout: Layout) -> None:
    bed_with_nightstands(layout)
    _some(layout, 0, 1, lambda: layout.against_wall("wardrobe"))
    _some(layout, 0, 1, lambda: desk_with_chair(layout))
    _some(layout, 0, 1, lambda: layout.against_wall("cabinet"))
    _some(layout, 0, 1, lambda: layout.near_wall("backpack"))
    _clutter(layout)
    _some(layout, 0, 1, lambda: layout.on_top("small plant", ("nightstand", "cabinet", "desk")))


def living_room(layout: Layout) -> None:
    sofa_with_table(layout)
    tv_on_stand(layout)
    _some(layout, 0, 2, lambda: layout.near_wall("armchair"))
    _some(layout, 0, 2, lambda: layout.against_wall("bookshelf"))
    _some(layout, 0, 2, lambda: layout.near_wall("floor lamp"))
    _some(layout, 0, 1, lambda: layout.against_wall("cabinet"))
    _clutter(layout, plants=(1, 3))
    _some(layout, 0, 2, lambda: layout.on_top("small plant", ("table", "cabinet", "tv stand")))


def office(layout: Layout) -> None:
    for _ in range(layout.count(1, 4)):
        if desk_with_chair(layout) is None or layout.crowded():
            break
    _some(layout, 0, 2, lambda: layout.against_wall("bookshelf"))
    _some(layout, 0, 2, lambda: layout.against_wall("cabinet"))
    _some(layout, 0, 1, lambda: layout.on_top("printer", ("cabinet", "desk")))
    _some(layout, 0, 2, lambda: layout.near_wall("backpack"))
    _clutter(layout, bins=(1, 3))


def kitchen(layout: Layout) -> None:
    layout.against_wall("counter", tries=60)
    layout.against_wall("refrigerator", tries=60)
    _some(layout, 0, 1, lambda: layout.against_wall("counter"))
    _some(layout, 0, 1, lambda: layout.against_wall("sink"))
    table_with_chairs(layout, "dining table", (2, 4))
    _some(layout, 0, 1, lambda: layout.on_top("microwave", ("counter",)))
    _some(layout, 0, 3, lambda: layout.near_wall("stool"))
    _some(layout, 0, 1, lambda: layout.against_wall("washing machine"))
    _some(layout, 0, 1, lambda: layout.against_wall("cabinet"))
    _clutter(layout, plants=(0, 1), bins=(1, 2))
    _some(layout, 0, 1, lambda: layout.on_top("small plant", ("table", "counter")))


def bathroom(layout: Layout) -> None:
    layout.against_wall("toilet", tries=60)
    layout.against_wall("sink", tries=60)
    if layout.rng.random() < 0.7:
        layout.against_wall("bathtub", tries=60)
    _some(layout, 0, 1, lambda: layout.against_wall("sink"))
    _some(layout, 0, 1, lambda: layout.against_wall("washing machine"))
    _some(layout, 1, 2, lambda: layout.against_wall("cabinet"))
    _clutter(layout, plants=(0, 1), bins=(1, 1))
    _some(layout, 0, 1, lambda: layout.on_top("small plant", ("cabinet",)))


def dining_room(layout: Layout) -> None:
    table_with_chairs(layout, "dining table", (2, 6))
    _some(layout, 0, 2, lambda: layout.against_wall("cabinet"))
    _some(layout, 0, 1, lambda: layout.near_wall("floor lamp"))
    _some(layout, 0, 2, lambda: layout.near_wall("stool"))
    _clutter(layout, plants=(1, 3))
    _some(layout, 0, 2, lambda: layout.on_top("small plant", ("table", "cabinet")))


def meeting_room(layout: Layout) -> None:
    table_with_chairs(layout, "meeting table", (4, 8))
    _some(layout, 0, 1, lambda: table_with_chairs(layout, "dining table", (2, 4)))
    _some(layout, 0, 1, lambda: tv_on_stand(layout))
    _some(layout, 0, 3, lambda: layout.on_top("laptop", ("table",)))
    _some(layout, 0, 1, lambda: layout.against_wall("bookshelf"))
    _clutter(layout, plants=(0, 2), bins=(1, 2))


PROGRAMS: dict[str, Callable[[Layout], None]] = {
    "bedroom": bedroom,
    "living room": living_room,
    "office": office,
    "kitchen": kitchen,
    "bathroom": bathroom,
    "dining room": dining_room,
    "meeting room": meeting_room,
}
