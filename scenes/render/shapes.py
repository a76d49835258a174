"""What each object category looks like: a few coloured primitives filling its box.

A shape depends only on the category and the box extents, so any scene (generated or
imported with boxes only) re-renders identically from its ``scene.json``. Local frame
of a box: +x across the object's width, +y towards its front (the side people use;
the back rests against a wall), +z up. Parts are axis-aligned primitives given by the
local bounds they fill; ``object_parts`` rescales the union to fill the box exactly,
so the oriented box is always the tight bound of what is drawn. Unknown categories
are drawn as a plain box in a colour derived from the name.
"""

from __future__ import annotations

import colorsys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Rgb = tuple[float, float, float]
Primitive = Literal["box", "cylinder", "cylinder_y", "sphere"]


@dataclass(frozen=True)
class Part:
    """One primitive filling the local bounds ``lo``..``hi`` (metres, box frame, z from 0)."""

    primitive: Primitive
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    colour: Rgb


WOOD: Rgb = (0.55, 0.38, 0.24)
DARK_WOOD: Rgb = (0.33, 0.22, 0.14)
LIGHT_WOOD: Rgb = (0.74, 0.60, 0.42)
WHITE: Rgb = (0.90, 0.90, 0.88)
CERAMIC: Rgb = (0.95, 0.95, 0.95)
METAL: Rgb = (0.62, 0.64, 0.67)
BLACK: Rgb = (0.10, 0.10, 0.11)
SCREEN: Rgb = (0.08, 0.10, 0.16)
FABRIC_BLUE: Rgb = (0.28, 0.38, 0.58)
FABRIC_GREY: Rgb = (0.50, 0.50, 0.52)
FABRIC_RED: Rgb = (0.62, 0.22, 0.20)
LEAF: Rgb = (0.20, 0.50, 0.20)
TERRACOTTA: Rgb = (0.72, 0.40, 0.26)
GLASS: Rgb = (0.74, 0.86, 0.95)


def _box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, c: Rgb) -> Part:
    return Part("box", (x0, y0, z0), (x1, y1, z1), c)


def _legs(w: float, d: float, top: float, size: float, inset: float, c: Rgb) -> list[Part]:
    """Four square legs at the corners of a w x d footprint, from the floor to ``top``."""
    xs = (-w / 2 + inset, w / 2 - inset - size)
    ys = (-d / 2 + inset, d / 2 - inset - size)
    return [_box(x, y, 0, x + size, y + size, top, c) for x in xs for y in ys]


def table(w: float, d: float, h: float) -> list[Part]:
    t = min(0.04, h * 0.1)
    return [
        _box(-w / 2, -d / 2, h - t, w / 2, d / 2, h, LIGHT_WOOD),
        *_legs(w, d, h - t, 0.05, 0.03, DARK_WOOD),
    ]


def desk(w: float, d: float, h: float) -> list[Part]:
    t = min(0.035, h * 0.1)
    drawer_w = min(0.42, w * 0.35)
    parts = [_box(-w / 2, -d / 2, h - t, w / 2, d / 2, h, WOOD)]
    parts += [
        _box(-w / 2 + 0.02, y, 0, -w / 2 + 0.07, y + 0.05, h - t, METAL)
        for y in (-d / 2 + 0.02, d / 2 - 0.07)
    ]
    parts.append(
        _box(w / 2 - drawer_w, -d / 2 + 0.02, 0, w / 2 - 0.02, d / 2 - 0.03, h - t, DARK_WOOD)
    )
    for k in range(3):
        z0 = 0.05 + k * (h - t - 0.05) / 3
        parts.append(
            _box(
                w / 2 - drawer_w + 0.02,
                d / 2 - 0.03,
                z0 + 0.02,
                w / 2 - 0.04,
                d / 2 - 0.02,
                z0 + (h - t - 0.05) / 3 - 0.02,
                WOOD,
            )
        )
    return parts


def chair(w: float, d: float, h: float) -> list[Part]:
    seat = min(0.47, h * 0.5)
    parts = [_box(-w / 2, -d / 2, seat - 0.05, w / 2, d / 2, seat, FABRIC_RED)]
    parts.append(_box(-w / 2, -d / 2, seat, w / 2, -d / 2 + 0.05, h, WOOD))
    return parts + _legs(w, d, seat - 0.05, 0.04, 0.0, WOOD)


def stool(w: float, d: float, h: float) -> list[Part]:
    return [
        Part("cylinder", (-w / 2, -d / 2, h - 0.05), (w / 2, d / 2, h), DARK_WOOD),
        Part("cylinder", (-0.03, -0.03, 0.03), (0.03, 0.03, h - 0.05), METAL),
        Part("cylinder", (-w * 0.4, -d * 0.4, 0), (w * 0.4, d * 0.4, 0.03), METAL),
    ]


def _upholstered(w: float, d: float, h: float, seats: int, fabric: Rgb) -> list[Part]:
    """Sofa-like: base, back, two arms and ``seats`` cushions, front at +y."""
    arm, back, base = min(0.18, w * 0.15), min(0.2, d * 0.25), min(0.42, h * 0.5)
    cushion_top = min(base + 0.1, h - 0.05)
    shade: Rgb = (
        min(1.0, fabric[0] * 1.25),
        min(1.0, fabric[1] * 1.25),
        min(1.0, fabric[2] * 1.25),
    )
    parts = [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2, base, fabric),
        _box(-w / 2, -d / 2, base, w / 2, -d / 2 + back, h, fabric),
        _box(-w / 2, -d / 2 + back, base, -w / 2 + arm, d / 2, min(h, base + 0.22), fabric),
        _box(w / 2 - arm, -d / 2 + back, base, w / 2, d / 2, min(h, base + 0.22), fabric),
    ]
    inner = (w - 2 * arm) / seats
    for k in range(seats):
        x0 = -w / 2 + arm + k * inner
        parts.append(
            _box(
                x0 + 0.01, -d / 2 + back, base, x0 + inner - 0.01, d / 2 - 0.02, cushion_top, shade
            )
        )
    return parts


def sofa(w: float, d: float, h: float) -> list[Part]:
    return _upholstered(w, d, h, 3 if w > 1.9 else 2, FABRIC_BLUE)


def armchair(w: float, d: float, h: float) -> list[Part]:
    return _upholstered(w, d, h, 1, FABRIC_GREY)


def bed(w: float, d: float, h: float) -> list[Part]:
    frame_top = h * 0.55
    sheet = min(0.55, d * 0.28)
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2, frame_top, DARK_WOOD),
        _box(-w / 2 + 0.03, -d / 2 + 0.03, frame_top, w / 2 - 0.03, -d / 2 + sheet, h, WHITE),
        _box(
            -w / 2 + 0.03,
            -d / 2 + sheet,
            frame_top,
            w / 2 - 0.03,
            d / 2 - 0.03,
            h,
            (0.45, 0.55, 0.70),
        ),
    ]


def _body_with_doors(
    w: float, d: float, h: float, body: Rgb, door: Rgb, doors: int, plinth: float = 0.06
) -> list[Part]:
    """A closed case with ``doors`` front panels and small handles (front at +y)."""
    parts = [_box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.03, h, body)]
    door_w = (w - 0.02) / doors
    for k in range(doors):
        x0 = -w / 2 + 0.01 + k * door_w
        parts.append(
            _box(
                x0 + 0.005, d / 2 - 0.03, plinth, x0 + door_w - 0.005, d / 2 - 0.015, h - 0.02, door
            )
        )
        hx = x0 + door_w - 0.06 if k % 2 == 0 else x0 + 0.04
        hz = min(h - 0.1, max(plinth + 0.05, h * 0.55))
        parts.append(_box(hx, d / 2 - 0.015, hz - 0.06, hx + 0.02, d / 2, hz + 0.06, METAL))
    return parts


def nightstand(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.02, h, WOOD),
        _box(-w / 2 + 0.02, d / 2 - 0.02, h * 0.55, w / 2 - 0.02, d / 2, h - 0.03, LIGHT_WOOD),
        _box(-w / 2 + 0.02, d / 2 - 0.02, 0.05, w / 2 - 0.02, d / 2, h * 0.55 - 0.02, LIGHT_WOOD),
    ]


def cabinet(w: float, d: float, h: float) -> list[Part]:
    return _body_with_doors(w, d, h, WOOD, LIGHT_WOOD, 2 if w > 0.7 else 1)


def wardrobe(w: float, d: float, h: float) -> list[Part]:
    return _body_with_doors(w, d, h, DARK_WOOD, WOOD, 2 if w < 1.5 else 3)


def refrigerator(w: float, d: float, h: float) -> list[Part]:
    split = h * 0.62
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.04, h, WHITE),
        _box(-w / 2 + 0.01, d / 2 - 0.04, 0.02, w / 2 - 0.01, d / 2 - 0.02, split - 0.01, CERAMIC),
        _box(
            -w / 2 + 0.01, d / 2 - 0.04, split + 0.01, w / 2 - 0.01, d / 2 - 0.02, h - 0.01, CERAMIC
        ),
        _box(w / 2 - 0.08, d / 2 - 0.02, split - 0.45, w / 2 - 0.06, d / 2, split - 0.1, METAL),
        _box(w / 2 - 0.08, d / 2 - 0.02, split + 0.08, w / 2 - 0.06, d / 2, split + 0.35, METAL),
    ]


def counter(w: float, d: float, h: float) -> list[Part]:
    parts = _body_with_doors(w, d - 0.03, h - 0.04, WHITE, CERAMIC, max(1, round(w / 0.6)))
    shifted = [
        Part(
            p.primitive,
            (p.lo[0], p.lo[1] - 0.015, p.lo[2]),
            (p.hi[0], p.hi[1] - 0.015, p.hi[2]),
            p.colour,
        )
        for p in parts
    ]
    return [*shifted, _box(-w / 2, -d / 2, h - 0.04, w / 2, d / 2, h, (0.30, 0.30, 0.32))]


def sink(w: float, d: float, h: float) -> list[Part]:
    top = h * 0.86
    return [
        *_body_with_doors(w, d, top - 0.04, WOOD, LIGHT_WOOD, 2 if w > 0.7 else 1),
        _box(-w / 2, -d / 2, top - 0.04, w / 2, d / 2, top, CERAMIC),
        _box(-w * 0.3, -d * 0.2, top, w * 0.3, d * 0.35, top + 0.015, (0.80, 0.84, 0.88)),
        Part("cylinder", (-0.02, -d / 2 + 0.04, top), (0.02, -d / 2 + 0.08, h), METAL),
    ]


def toilet(w: float, d: float, h: float) -> list[Part]:
    seat = min(0.42, h * 0.55)
    return [
        _box(-w * 0.3, -d / 2 + 0.15, 0, w * 0.3, d / 2 - 0.12, seat - 0.06, CERAMIC),
        Part("cylinder", (-w / 2, -d / 2 + 0.12, seat - 0.06), (w / 2, d / 2, seat), CERAMIC),
        _box(-w / 2, -d / 2, seat - 0.06, w / 2, -d / 2 + 0.2, h, CERAMIC),
    ]


def bathtub(w: float, d: float, h: float) -> list[Part]:
    rim = 0.07
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2, 0.12, CERAMIC),
        _box(-w / 2, -d / 2, 0.12, w / 2, -d / 2 + rim, h, CERAMIC),
        _box(-w / 2, d / 2 - rim, 0.12, w / 2, d / 2, h, CERAMIC),
        _box(-w / 2, -d / 2 + rim, 0.12, -w / 2 + rim, d / 2 - rim, h, CERAMIC),
        _box(w / 2 - rim, -d / 2 + rim, 0.12, w / 2, d / 2 - rim, h, CERAMIC),
        _box(-w / 2 + rim, -d / 2 + rim, 0.12, w / 2 - rim, d / 2 - rim, 0.13, (0.70, 0.82, 0.90)),
    ]


def _screen(w: float, d: float, h: float, foot: float) -> list[Part]:
    """A flat screen on a foot: frame, dark panel facing +y, neck, base plate."""
    panel_d = min(0.05, d * 0.4)
    return [
        _box(-w / 2, -panel_d / 2, foot, w / 2, panel_d / 2 - 0.005, h, BLACK),
        _box(
            -w / 2 + 0.015,
            panel_d / 2 - 0.005,
            foot + 0.015,
            w / 2 - 0.015,
            panel_d / 2,
            h - 0.015,
            SCREEN,
        ),
        _box(-0.03, -panel_d / 2 - 0.01, 0.015, 0.03, -panel_d / 2, foot + 0.05, BLACK),
        _box(-w * 0.18, -d / 2, 0, w * 0.18, d / 2, 0.015, BLACK),
    ]


def tv(w: float, d: float, h: float) -> list[Part]:
    return _screen(w, d, h, foot=min(0.1, h * 0.15))


def monitor(w: float, d: float, h: float) -> list[Part]:
    return _screen(w, d, h, foot=min(0.1, h * 0.25))


def tv_stand(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.01, h, DARK_WOOD),
        _box(-w / 2 + 0.03, d / 2 - 0.01, 0.05, -0.01, d / 2, h - 0.05, BLACK),
        _box(0.01, d / 2 - 0.01, 0.05, w / 2 - 0.03, d / 2, h - 0.05, WOOD),
    ]


def bookshelf(w: float, d: float, h: float) -> list[Part]:
    t = 0.02
    shelves = max(2, round(h / 0.36))
    gap = (h - t) / shelves
    parts = [
        _box(-w / 2, -d / 2, 0, -w / 2 + t, d / 2, h, WOOD),
        _box(w / 2 - t, -d / 2, 0, w / 2, d / 2, h, WOOD),
        _box(-w / 2 + t, -d / 2, 0, w / 2 - t, -d / 2 + t, h, DARK_WOOD),
    ]
    book_colours: list[Rgb] = [
        FABRIC_RED,
        FABRIC_BLUE,
        (0.85, 0.75, 0.30),
        LEAF,
        WHITE,
        (0.45, 0.25, 0.45),
    ]
    for k in range(shelves + 1):
        z = k * gap
        parts.append(_box(-w / 2 + t, -d / 2 + t, z, w / 2 - t, d / 2, z + t, WOOD))
        if k == shelves:
            break
        x, i = -w / 2 + t + 0.02, 0
        fill = 0.55 + 0.35 * ((k * 37) % 10) / 10
        while x < -w / 2 + t + (w - 2 * t) * fill - 0.05:
            bw = 0.025 + 0.01 * ((i * 7 + k * 3) % 4)
            bh = gap * (0.55 + 0.1 * ((i * 5 + k) % 4))
            parts.append(
                _box(
                    x,
                    -d / 2 + t + 0.01,
                    z + t,
                    x + bw,
                    d / 2 - 0.03,
                    z + t + bh,
                    book_colours[(i + 2 * k) % 6],
                )
            )
            x, i = x + bw + 0.003, i + 1
    return parts


def lamp(w: float, d: float, h: float) -> list[Part]:
    shade_h = min(0.35, h * 0.3)
    return [
        Part("cylinder", (-w * 0.3, -d * 0.3, 0), (w * 0.3, d * 0.3, 0.03), BLACK),
        Part("cylinder", (-0.012, -0.012, 0.03), (0.012, 0.012, h - shade_h), METAL),
        Part("cylinder", (-w / 2, -d / 2, h - shade_h), (w / 2, d / 2, h), (0.98, 0.90, 0.68)),
    ]


def plant(w: float, d: float, h: float) -> list[Part]:
    pot = h * 0.3
    return [
        Part("cylinder", (-w * 0.32, -d * 0.32, 0), (w * 0.32, d * 0.32, pot), TERRACOTTA),
        Part("sphere", (-w / 2, -d / 2, pot * 0.8), (w / 2, d / 2, h), LEAF),
    ]


def trash_bin(w: float, d: float, h: float) -> list[Part]:
    return [
        Part(
            "cylinder",
            (-w * 0.46, -d * 0.46, 0),
            (w * 0.46, d * 0.46, h - 0.03),
            (0.35, 0.42, 0.40),
        ),
        Part("cylinder", (-w / 2, -d / 2, h - 0.03), (w / 2, d / 2, h), (0.22, 0.26, 0.25)),
    ]


def pillow(w: float, d: float, h: float) -> list[Part]:
    return [Part("sphere", (-w / 2, -d / 2, 0), (w / 2, d / 2, h), (0.93, 0.91, 0.84))]


def keyboard(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2, h * 0.6, BLACK),
        _box(
            -w / 2 + 0.01, -d / 2 + 0.01, h * 0.6, w / 2 - 0.01, d / 2 - 0.01, h, (0.30, 0.30, 0.32)
        ),
    ]


def laptop(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2, 0.02, METAL),
        _box(-w / 2, -d / 2, 0.02, w / 2, -d / 2 + 0.012, h, METAL),
        _box(-w / 2 + 0.01, -d / 2 + 0.012, 0.03, w / 2 - 0.01, -d / 2 + 0.014, h - 0.01, SCREEN),
    ]


def microwave(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.005, h, METAL),
        _box(-w / 2 + 0.03, d / 2 - 0.005, 0.03, w / 2 - 0.14, d / 2, h - 0.03, SCREEN),
        _box(w / 2 - 0.12, d / 2 - 0.005, 0.03, w / 2 - 0.03, d / 2, h - 0.03, BLACK),
    ]


def printer(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.005, h * 0.8, (0.82, 0.82, 0.80)),
        _box(
            -w / 2 + 0.04, -d / 2 + 0.04, h * 0.8, w / 2 - 0.04, d / 2 - 0.08, h, (0.96, 0.96, 0.96)
        ),
        _box(-w / 2 + 0.06, d / 2 - 0.005, h * 0.35, w / 2 - 0.06, d / 2, h * 0.45, BLACK),
    ]


def backpack(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.06, h * 0.85, FABRIC_RED),
        Part("sphere", (-w / 2, -d / 2, h * 0.7), (w / 2, d / 2 - 0.06, h), FABRIC_RED),
        _box(-w * 0.4, d / 2 - 0.06, h * 0.1, w * 0.4, d / 2, h * 0.5, (0.45, 0.15, 0.14)),
    ]


def radiator(w: float, d: float, h: float) -> list[Part]:
    fins = max(4, int(w / 0.08))
    pitch = w / fins
    parts = [
        _box(-w / 2, -d / 2, h - 0.04, w / 2, d / 2, h, WHITE),
        _box(-w / 2, -d / 2 + 0.01, 0.1, w / 2, d / 2 - 0.01, 0.14, WHITE),
    ]
    parts += [
        _box(
            -w / 2 + k * pitch + 0.01,
            -d / 2,
            0.0,
            -w / 2 + (k + 1) * pitch - 0.01,
            d / 2,
            h - 0.04,
            CERAMIC,
        )
        for k in range(fins)
    ]
    return parts


def washing_machine(w: float, d: float, h: float) -> list[Part]:
    door = min(w, h) * 0.55
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.02, h, WHITE),
        Part(
            "cylinder_y",
            (-door / 2, d / 2 - 0.02, h * 0.4 - door / 2),
            (door / 2, d / 2, h * 0.4 + door / 2),
            (0.35, 0.40, 0.45),
        ),
        _box(-w / 2 + 0.03, d / 2 - 0.02, h - 0.12, w / 2 - 0.03, d / 2 - 0.01, h - 0.03, METAL),
    ]


def clock(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.005, h, DARK_WOOD),
        Part(
            "cylinder_y",
            (-w * 0.4, d / 2 - 0.005, h / 2 - w * 0.4),
            (w * 0.4, d / 2, h / 2 + w * 0.4),
            WHITE,
        ),
    ]


def door(w: float, d: float, h: float) -> list[Part]:
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2 - 0.03, h, (0.40, 0.27, 0.17)),
        _box(
            -w / 2 + 0.1,
            d / 2 - 0.03,
            h * 0.55,
            -w / 2 + 0.1 + 0.035,
            d / 2 - 0.025,
            h * 0.92,
            (0.34, 0.23, 0.15),
        ),
        _box(w / 2 - 0.16, d / 2 - 0.03, h * 0.46, w / 2 - 0.06, d / 2, h * 0.48, METAL),
    ]


def window(w: float, d: float, h: float) -> list[Part]:
    f = 0.05
    return [
        _box(-w / 2, -d / 2, 0, w / 2, d / 2, f, WHITE),
        _box(-w / 2, -d / 2, h - f, w / 2, d / 2, h, WHITE),
        _box(-w / 2, -d / 2, f, -w / 2 + f, d / 2, h - f, WHITE),
        _box(w / 2 - f, -d / 2, f, w / 2, d / 2, h - f, WHITE),
        _box(-0.02, -d / 2, f, 0.02, d / 2 - 0.005, h - f, WHITE),
        _box(-w / 2 + f, -d / 2, f, w / 2 - f, -d / 2 + 0.005, h - f, GLASS),
    ]


SHAPES: dict[str, Callable[[float, float, float], list[Part]]] = {
    "armchair": armchair,
    "backpack": backpack,
    "bathtub": bathtub,
    "bed": bed,
    "bookshelf": bookshelf,
    "cabinet": cabinet,
    "chair": chair,
    "clock": clock,
    "counter": counter,
    "desk": desk,
    "door": door,
    "keyboard": keyboard,
    "lamp": lamp,
    "laptop": laptop,
    "microwave": microwave,
    "monitor": monitor,
    "nightstand": nightstand,
    "pillow": pillow,
    "plant": plant,
    "printer": printer,
    "radiator": radiator,
    "refrigerator": refrigerator,
    "sink": sink,
    "sofa": sofa,
    "stool": stool,
    "table": table,
    "toilet": toilet,
    "trash bin": trash_bin,
    "tv": tv,
    "tv stand": tv_stand,
    "wardrobe": wardrobe,
    "washing machine": washing_machine,
    "window": window,
}


def category_colour(category: str) -> Rgb:
    """A stable, mid-bright colour for a category the catalogue does not know."""
    code = zlib.crc32(category.encode("utf-8"))
    return colorsys.hsv_to_rgb((code % 360) / 360.0, 0.45, 0.75)


def _vec3(values: np.ndarray) -> tuple[float, float, float]:
    return (float(values[0]), float(values[1]), float(values[2]))


def object_parts(category: str, extents: tuple[float, float, float]) -> list[Part]:
    """Parts of one object in its box frame (centred, z from -h/2), filling the box exactly."""
    w, d, h = (max(float(e), 1e-3) for e in extents)
    builder = SHAPES.get(category)
    parts = (
        builder(w, d, h)
        if builder
        else [_box(-w / 2, -d / 2, 0, w / 2, d / 2, h, category_colour(category))]
    )
    lo = np.min([p.lo for p in parts], axis=0)
    hi = np.max([p.hi for p in parts], axis=0)
    target_lo = np.array([-w / 2, -d / 2, -h / 2])
    scale = np.array([w, d, h]) / np.maximum(hi - lo, 1e-9)
    fitted = []
    for part in parts:
        new_lo = target_lo + (np.asarray(part.lo) - lo) * scale
        new_hi = target_lo + (np.asarray(part.hi) - lo) * scale
        fitted.append(Part(part.primitive, _vec3(new_lo), _vec3(new_hi), part.colour))
    return fitted
