"""A tiny SVG plotting kit for the run report: axes, lines and stacked bars as inline markup.

Inline SVG keeps the page self-contained and sharp at any zoom, and costs a few kB per
chart; hovering a point or bar shows its exact value (an SVG <title>).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 480, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 14, 16, 34
AXIS_COLOUR, GRID_COLOUR, TEXT_COLOUR = "#8a8f98", "#e6e8eb", "#4a4f57"


def attr(value: object) -> str:
    return escape(str(value), quote=True)


def fmt(value: float) -> str:
    """Coordinates with two decimals: enough for screens, small in the file."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def nice_step(span: float, ticks: int = 5) -> float:
    """A 1-2-5 step that cuts `span` into about `ticks` intervals."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


@dataclass
class Series:
    """One line (or one layer of stacked bars): a value per x position, None for a gap."""

    name: str
    colour: str
    values: Sequence[float | None]
    width: float = 1.6


class Canvas:
    """Plot area with a linear y axis and either categorical or numeric x positions."""

    def __init__(
        self,
        y_min: float,
        y_max: float,
        *,
        width: int = WIDTH,
        height: int = HEIGHT,
        y_format: Callable[[float], str] = percent,
        y_label: str = "",
    ) -> None:
        self.width, self.height = width, height
        self.left, self.right = MARGIN_LEFT, width - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM
        self.y_min, self.y_max = y_min, y_max if y_max > y_min else y_min + 1
        self.y_format, self.y_label = y_format, y_label
        self.parts: list[str] = []

    def y(self, value: float) -> float:
        share = (value - self.y_min) / (self.y_max - self.y_min)
        return self.bottom - share * (self.bottom - self.top)

    def slot(self, index: int, count: int) -> float:
        """Centre of category `index` of `count`, spread evenly across the plot area."""
        span = (self.right - self.left) / max(count, 1)
        return self.left + span * (index + 0.5)

    def slot_width(self, count: int) -> float:
        return (self.right - self.left) / max(count, 1)

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(
        self,
        x: float,
        y: float,
        label: str,
        *,
        anchor: str = "middle",
        size: int = 11,
        weight: str = "normal",
        colour: str = TEXT_COLOUR,
    ) -> None:
        self.add(
            f'<text x="{fmt(x)}" y="{fmt(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}" fill="{colour}">{escape(label)}</text>'
        )

    def y_axis(self, step: float | None = None) -> None:
        step = step or nice_step(self.y_max - self.y_min)
        tick = math.ceil(self.y_min / step) * step
        while tick <= self.y_max + 1e-9:
            y = self.y(tick)
            self.add(
                f'<line x1="{fmt(self.left)}" x2="{fmt(self.right)}" y1="{fmt(y)}" y2="{fmt(y)}" '
                f'stroke="{GRID_COLOUR}"/>'
            )
            self.text(self.left - 6, y + 4, self.y_format(tick), anchor="end", size=10)
            tick += step
        if self.y_label:
            middle = (self.top + self.bottom) / 2
            self.add(
                f'<text transform="translate(12 {fmt(middle)}) rotate(-90)" text-anchor="middle" '
                f'font-size="10" fill="{TEXT_COLOUR}">{escape(self.y_label)}</text>'
            )
        self.add(
            f'<line x1="{fmt(self.left)}" x2="{fmt(self.right)}" y1="{fmt(self.bottom)}" '
            f'y2="{fmt(self.bottom)}" stroke="{AXIS_COLOUR}"/>'
        )

    def x_labels(self, labels: Sequence[str]) -> None:
        for index, label in enumerate(labels):
            self.text(self.slot(index, len(labels)), self.bottom + 15, label, size=10)

    def polyline(self, points: Sequence[tuple[float, float]], series: Series) -> None:
        """A line through `points` (pixel coordinates); markers are drawn separately."""
        if len(points) > 1:
            path = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)
            self.add(
                f'<polyline points="{path}" fill="none" stroke="{attr(series.colour)}" '
                f'stroke-width="{series.width}" stroke-linejoin="round"/>'
            )

    def marker(self, x: float, y: float, colour: str, tooltip: str, radius: float = 3) -> None:
        self.add(
            f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="{radius}" fill="{attr(colour)}">'
            f"<title>{escape(tooltip)}</title></circle>"
        )

    def rect(self, x: float, y: float, w: float, h: float, colour: str, tooltip: str) -> None:
        self.add(
            f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(max(h, 0))}" '
            f'fill="{attr(colour)}"><title>{escape(tooltip)}</title></rect>'
        )

    def vline(self, x: float, label: str) -> None:
        self.add(
            f'<line x1="{fmt(x)}" x2="{fmt(x)}" y1="{fmt(self.top)}" y2="{fmt(self.bottom)}" '
            f'stroke="{AXIS_COLOUR}" stroke-dasharray="3 3"/>'
        )
        self.text(x + 3, self.top + 9, label, anchor="start", size=9)

    def svg(self, title: str) -> str:
        body = "".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-label="{attr(title)}" class="chart"><title>{escape(title)}</title>'
            f"{body}</svg>"
        )
