"""Furniture that belongs together: a table with its chairs, a desk with its chair and
screen, a bed with nightstands and pillows, a sofa with its coffee table, a tv on its stand."""

from __future__ import annotations

import math

from scenes.procedural.catalog import KINDS
from scenes.procedural.placement import Layout, Placed


def _seats(width: float, depth: float) -> list[tuple[float, float, float]]:
    """Chair spots around a table as (u, v side sign, yaw offset): long sides, then the ends."""
    spots = []
    per_side = max(1, int(width / 0.62))
    for k in range(per_side):
        u = -width / 2 + (k + 0.5) * width / per_side
        spots.append((u, 1.0, math.pi))  # on the table's +y side, facing -y
        spots.append((u, -1.0, 0.0))
    if depth >= 0.6:
        spots.append((1.0, 0.0, math.pi / 2))  # +x end, facing -x
        spots.append((-1.0, 0.0, -math.pi / 2))
    return spots


def _chair_at(
    layout: Layout, table: int, spot: tuple[float, float, float], chair_kind: str
) -> int | None:
    host = layout.objects[table]
    width, depth = host.extents[0], host.extents[1]
    size = KINDS[chair_kind].sample_extents(layout.rng)
    pull = float(layout.rng.uniform(0.04, 0.15))
    jitter = float(layout.rng.uniform(-0.12, 0.12))
    u, side, yaw = spot
    if side == 0.0:  # an end seat: u holds the end's sign
        offset = width / 2 + pull + size[1] / 2
        return layout.relative_to(table, chair_kind, u * offset, 0.0, yaw + jitter, size)
    offset = depth / 2 + pull + size[1] / 2
    return layout.relative_to(table, chair_kind, u, side * offset, yaw + jitter, size)


def table_with_chairs(
    layout: Layout, table_kind: str, chairs: tuple[int, int], chair_kind: str = "chair"
) -> int | None:
    """A table in the open with chairs around it; of several spots, keeps the one seating most."""
    wanted = layout.count(*chairs)
    start = len(layout.objects)
    best_seated, best_group = -1, []
    for _ in range(12):
        table = layout.in_open(table_kind, tries=20, clearance=0.5)
        if table is None:
            continue
        spots = _seats(*layout.objects[table].extents[:2])
        seated = 0
        for i in layout.rng.permutation(len(spots)):
            if seated == wanted:
                break
            seated += _chair_at(layout, table, spots[int(i)], chair_kind) is not None
        if seated == wanted:
            return table
        if seated > best_seated:
            best_seated, best_group = seated, layout.objects[start:]
        del layout.objects[start:]
    layout.objects.extend(best_group)
    return start if best_group else None


def desk_with_chair(layout: Layout, screen: bool = True) -> int | None:
    """A desk against a wall, a chair pulled up to it, and a monitor or laptop on it."""
    desk = layout.against_wall("desk")
    if desk is None:
        return None
    host = layout.objects[desk]
    size = KINDS["chair"].sample_extents(layout.rng)
    pull = float(layout.rng.uniform(0.05, 0.2))
    jitter = float(layout.rng.uniform(-0.3, 0.3)) * (host.extents[0] - size[0]) / 2
    layout.relative_to(
        desk, "chair", jitter, host.extents[1] / 2 + pull + size[1] / 2, math.pi, size
    )
    if screen and layout.rng.random() < 0.65:
        monitors = 1 + int(host.extents[0] > 1.3 and layout.rng.random() < 0.4)
        for _ in range(monitors):
            layout.on_top("monitor", (), support=desk)
        layout.on_top("keyboard", (), support=desk)
    elif screen:
        layout.on_top("laptop", (), support=desk)
    if layout.rng.random() < 0.4:
        layout.on_top("table lamp", (), support=desk)
    return desk


def bed_with_nightstands(layout: Layout) -> int | None:
    """A bed with its head to a wall, nightstands beside the head, lamps and pillows."""
    bed = layout.against_wall("bed", tries=60)
    if bed is None:
        return None
    host = layout.objects[bed]
    width, depth = host.extents[0], host.extents[1]
    for side in layout.rng.permutation([-1.0, 1.0])[: layout.count(1, 2)]:
        size = KINDS["nightstand"].sample_extents(layout.rng)
        u = float(side) * (width / 2 + 0.05 + size[0] / 2)
        stand = layout.relative_to(bed, "nightstand", u, -depth / 2 + size[1] / 2, 0.0, size)
        if stand is not None and layout.rng.random() < 0.7:
            layout.on_top("table lamp", (), support=stand)
        if stand is not None and layout.rng.random() < 0.25:
            layout.on_top("clock", (), support=stand)
    _pillows(layout, bed)
    return bed


def _pillows(layout: Layout, bed: int) -> None:
    """One or two pillows (by bed width) at the head, resting on the bed's top."""
    host = layout.objects[bed]
    width, depth = host.extents[0], host.extents[1]
    count = 1 if width < 1.3 else 2
    for k in range(count):
        size = KINDS["pillow"].sample_extents(layout.rng)
        size = (min(size[0], width / count - 0.08), size[1], size[2])
        u = -width / 2 + (k + 0.5) * width / count
        x, y = host.local_to_world(u, -depth / 2 + 0.06 + size[1] / 2)
        layout.try_add(
            Placed("pillow", "pillow", (x, y, host.z1 + size[2] / 2), size, host.yaw, support=bed),
            gap=0.02,
        )


def sofa_with_table(layout: Layout) -> int | None:
    """A sofa against a wall and a coffee table in front of it."""
    sofa = layout.against_wall("sofa", tries=60)
    if sofa is None:
        return None
    host = layout.objects[sofa]
    size = KINDS["coffee table"].sample_extents(layout.rng)
    gap = float(layout.rng.uniform(0.35, 0.5))
    layout.relative_to(
        sofa, "coffee table", 0.0, host.extents[1] / 2 + gap + size[1] / 2, 0.0, size
    )
    return sofa


def tv_on_stand(layout: Layout) -> int | None:
    stand = layout.against_wall("tv stand")
    if stand is not None:
        layout.on_top("tv", (), support=stand)
    return stand
