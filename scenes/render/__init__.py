"""Ray-cast rendering of any Scene: coloured meshes from boxes, then RGB, instance ids, depth."""

from __future__ import annotations

from scenes.render.images import read_depth_png, read_instance_png, write_frame_images
from scenes.render.meshes import (
    CEILING_ID,
    DOOR_ID,
    FLOOR_ID,
    WALL_ID,
    WINDOW_ID,
    build_meshes,
    opening_box,
)
from scenes.render.raycast import RenderConfig, Renderer, RenderResult

__all__ = [
    "CEILING_ID",
    "DOOR_ID",
    "FLOOR_ID",
    "WALL_ID",
    "WINDOW_ID",
    "RenderConfig",
    "RenderResult",
    "Renderer",
    "build_meshes",
    "opening_box",
    "read_depth_png",
    "read_instance_png",
    "write_frame_images",
]
