"""Procedural rooms with furniture and a rendered walkthrough: the default scene source."""

from __future__ import annotations

from scenes.procedural.catalog import KINDS, furniture_categories
from scenes.procedural.generate import (
    GeneratedScene,
    generate_scene,
    generate_scenes,
    layout_scene,
    write_scene,
)
from scenes.render import Renderer, build_meshes

__all__ = [
    "KINDS",
    "GeneratedScene",
    "Renderer",
    "build_meshes",
    "furniture_categories",
    "generate_scene",
    "generate_scenes",
    "layout_scene",
    "write_scene",
]
