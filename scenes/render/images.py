"""Frame files on disk: RGB PNG, 16-bit instance-id PNG, 16-bit depth PNG in millimetres."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from common.errors import UserError

PNG_COMPRESSION = 3
"""zlib level for frame PNGs: near the size of level 6 at a fraction of the time."""

MAX_DEPTH_MM = 65535


def frame_names(index: int) -> tuple[str, str, str]:
    """Paths of frame ``index``'s RGB, instance and depth images, relative to the scene folder."""
    stem = f"frames/{index:04d}"
    return f"{stem}.png", f"{stem}_inst.png", f"{stem}_depth.png"


def _save(array: np.ndarray, path: Path) -> None:
    Image.fromarray(array).save(path, format="PNG", compress_level=PNG_COMPRESSION)


def instance_png_array(instance: np.ndarray) -> np.ndarray:
    """Object ids as uint16; the room's structure (negative ids) and misses become 0."""
    ids = np.where(instance > 0, instance, 0)
    if ids.size and int(ids.max()) > np.iinfo(np.uint16).max:
        raise UserError(
            f"instance id {int(ids.max())} does not fit a 16-bit instance PNG; "
            "renumber the scene's objects below 65536"
        )
    return ids.astype(np.uint16)


def depth_png_array(depth_m: np.ndarray) -> np.ndarray:
    """Depth in whole millimetres, clipped to 65535 (65.5 m); 0 where nothing was hit."""
    return np.clip(np.rint(depth_m * 1000.0), 0, MAX_DEPTH_MM).astype(np.uint16)


def write_frame_images(
    scene_dir: Path, index: int, rgb: np.ndarray, instance: np.ndarray, depth_m: np.ndarray
) -> tuple[str, str, str]:
    """Write one frame's three PNGs under ``scene_dir``; returns their relative paths."""
    names = frame_names(index)
    (scene_dir / "frames").mkdir(parents=True, exist_ok=True)
    _save(np.ascontiguousarray(rgb, dtype=np.uint8), scene_dir / names[0])
    _save(instance_png_array(instance), scene_dir / names[1])
    _save(depth_png_array(depth_m), scene_dir / names[2])
    return names


def read_instance_png(path: str | Path) -> np.ndarray:
    """Per-pixel object ids (uint16, 0 = no object)."""
    with Image.open(path) as image:
        return np.asarray(image).astype(np.uint16)


def read_depth_png(path: str | Path) -> np.ndarray:
    """Depth in metres (float32, 0 = nothing hit)."""
    with Image.open(path) as image:
        return np.asarray(image).astype(np.float32) / 1000.0
