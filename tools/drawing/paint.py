"""Pixels: boxes and labelled lines drawn onto a copy of a frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw

COLOURS: tuple[str, ...] = (
    "red",
    "lime",
    "blue",
    "yellow",
    "orange",
    "magenta",
    "cyan",
    "purple",
    "brown",
    "pink",
    "teal",
    "gold",
)


def line_width(image: Image.Image) -> int:
    """About 1% of the short side, at least 1 pixel (tiny 64 px frames stay readable)."""
    return max(1, min(image.size) // 100)


def paint(
    base: Image.Image,
    boxes: Mapping[str, Sequence[float]],
    lines: Mapping[str, tuple[Sequence[float], Sequence[float]]],
) -> Image.Image:
    """A copy of ``base`` with every box (outline + label) and line (start red, end blue)."""
    image = base.convert("RGB").copy()
    draw = ImageDraw.Draw(image)
    width = line_width(image)
    for i, (label, (x1, y1, x2, y2)) in enumerate(boxes.items()):
        colour = COLOURS[i % len(COLOURS)]
        draw.rectangle(
            (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), outline=colour, width=width
        )
        draw.text((min(x1, x2) + width + 1, min(y1, y2) + width), label, fill=colour)
    radius = 2 * width
    for label, (start, end) in lines.items():
        draw.line((start[0], start[1], end[0], end[1]), fill="black", width=width)
        for (x, y), colour in ((start, "red"), (end, "blue")):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        draw.text((end[0] + radius, end[1] + radius), label, fill="white")
    return image
