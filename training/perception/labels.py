"""Dense per-frame targets from the renderer's free labels, laid out like the vision tokens.

The renderer writes, beside each RGB frame, per-pixel instance ids and depth. Resized to
the solver's frame size (nearest neighbour, so ids stay ids), they give for every vision
token (a `patch x merge` pixel square) the share of its pixels that show each object
category, and its mean depth; for every patch, the same category shares. Token and patch
order follow Qwen's image processor: merged squares row by row, the patches inside each
square row by row. For the whole frame, which categories can be seen in it, by the
warm-up's rule (`training.warmup`: at least 2% of the rendered frame's pixels; under a
fifth of that is "not seen"; in between is too close to call and carries no target).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from agents.solver.frames import load_frame
from scenes.render import read_depth_png, read_instance_png
from scenes.schema import Frame, Scene


@dataclass
class FrameTargets:
    """One frame: its resized image and what each token and patch shows."""

    image: Image.Image
    token_categories: np.ndarray  # (tokens, categories + 1) pixel shares; column 0: no object
    patch_categories: np.ndarray  # (patches, categories + 1)
    token_depth: np.ndarray  # (tokens,) mean log depth in metres (0 where nothing was hit)
    presence: np.ndarray  # (categories,) 1 where the category can be seen in the frame
    presence_known: np.ndarray  # (categories,) 0 where it is too close to call


def frame_presence(
    scene: Scene, frame: Frame, categories: tuple[str, ...], min_fraction: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Seen (1) or not (0) per category, and whether that is clear, from `Frame.visible`."""
    threshold = max(int(frame.intrinsics.width * frame.intrinsics.height * min_fraction), 1)
    pixels = np.zeros(len(categories))
    index = {name: i for i, name in enumerate(categories)}
    by_instance = {o.instance_id: index.get(o.category) for o in scene.objects}
    for instance_id, count in frame.visible.items():
        position = by_instance.get(instance_id)
        if position is not None:
            pixels[position] += count
    seen = pixels >= threshold
    known = seen | (pixels * 5 < threshold)
    return seen.astype(np.float32), known.astype(np.float32)


def _resize_nearest(array: np.ndarray, size: int) -> np.ndarray:
    image = Image.fromarray(array.astype(np.int32), mode="I")
    return np.asarray(image.resize((size, size), Image.Resampling.NEAREST))


def _shares(category_map: np.ndarray, side: int, num_classes: int) -> np.ndarray:
    """Category shares of each side x side square, rows of squares first."""
    size = category_map.shape[0]
    grid = size // side
    squares = category_map.reshape(grid, side, grid, side).transpose(0, 2, 1, 3)
    squares = squares.reshape(grid * grid, side * side)
    counts = np.stack([(squares == c).sum(1) for c in range(num_classes)], axis=1)
    return counts / float(side * side)


def _processor_order(values: np.ndarray, grid: int, merge: int) -> np.ndarray:
    """Patch rows in row-major order -> Qwen's order (merged squares, then inside each)."""
    inner = grid // merge
    shaped = values.reshape(inner, merge, inner, merge, *values.shape[1:])
    return shaped.transpose(0, 2, 1, 3, *range(4, shaped.ndim)).reshape(values.shape)


def frame_targets(
    scene: Scene,
    scene_dir: Path,
    frame: Frame,
    categories: tuple[str, ...],
    frame_size: int,
    patch_size: int,
    merge_size: int,
) -> FrameTargets:
    if not (frame.image_path and frame.instance_path and frame.depth_path):
        raise ValueError(f"scene {scene.id} frame {frame.index} lacks rendered label images")
    index = {name: i + 1 for i, name in enumerate(categories)}
    by_instance = {o.instance_id: index.get(o.category, 0) for o in scene.objects}
    instance = _resize_nearest(read_instance_png(scene_dir / frame.instance_path), frame_size)
    lookup = np.zeros(int(instance.max()) + 1, dtype=np.int64)
    for instance_id, category in by_instance.items():
        if instance_id < lookup.size:
            lookup[instance_id] = category
    category_map = lookup[instance]
    depth = np.asarray(
        Image.fromarray(read_depth_png(scene_dir / frame.depth_path)).resize(
            (frame_size, frame_size), Image.Resampling.NEAREST
        )
    )
    num_classes = len(categories) + 1
    token_side = patch_size * merge_size
    token_categories = _shares(category_map, token_side, num_classes)
    patch_grid = frame_size // patch_size
    patch_rows = _shares(category_map, patch_size, num_classes)
    patch_categories = _processor_order(patch_rows, patch_grid, merge_size)
    log_depth = np.log(np.clip(depth, 0.1, None)) * (depth > 0)
    token_depth = _shares_mean(log_depth, token_side)
    presence, presence_known = frame_presence(scene, frame, categories)
    return FrameTargets(
        image=load_frame(scene_dir / frame.image_path, frame_size),
        token_categories=token_categories.astype(np.float32),
        patch_categories=patch_categories.astype(np.float32),
        token_depth=token_depth.astype(np.float32),
        presence=presence,
        presence_known=presence_known,
    )


def _shares_mean(values: np.ndarray, side: int) -> np.ndarray:
    grid = values.shape[0] // side
    return values.reshape(grid, side, grid, side).mean(axis=(1, 3)).reshape(-1)
