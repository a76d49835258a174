"""When objects first appear in the video, from per-frame pixel counts.

An object "appears" in a frame when it covers at least a threshold of pixels, so a few
stray pixels at an image border do not count. The default threshold is 0.1 % of the
frame's image area (at least one pixel). VSI-Bench's obj_appearance_order asks for the
order of first appearance of categories and drops orders whose times are within 1 s.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from .scene_view import Ambiguous, FrameView, Object3D, SceneView

DEFAULT_MIN_FRACTION = 0.001
DEFAULT_MIN_GAP_S = 1.0


def appearance_threshold(frame: FrameView, min_pixels: int | None = None) -> int:
    """Pixels an object needs in ``frame`` to count as visible there."""
    if min_pixels is not None:
        return max(int(min_pixels), 1)
    area = frame.intrinsics.get("width", 0.0) * frame.intrinsics.get("height", 0.0)
    return max(int(area * DEFAULT_MIN_FRACTION), 1)


def first_appearance(
    scene: SceneView, instance: int | Object3D, min_pixels: int | None = None
) -> int | None:
    """Index of the first frame showing the instance (None if it never appears)."""
    instance_id = instance.instance_id if isinstance(instance, Object3D) else int(instance)
    for frame in scene.frames:
        if frame.pixels(instance_id) >= appearance_threshold(frame, min_pixels):
            return frame.index
    return None


def first_appearances(scene: SceneView, min_pixels: int | None = None) -> dict[int, int]:
    """Instance id -> first frame index, for every instance that ever appears."""
    first: dict[int, int] = {}
    for frame in scene.frames:
        threshold = appearance_threshold(frame, min_pixels)
        for instance_id, count in frame.visible.items():
            if count >= threshold and instance_id not in first:
                first[instance_id] = frame.index
    return first


def category_first_appearance(
    scene: SceneView, category: str, min_pixels: int | None = None
) -> int | None:
    """First frame index in which any object of the category appears (None if never)."""
    indices = [first_appearance(scene, o, min_pixels) for o in scene.objects_of(category)]
    seen = [i for i in indices if i is not None]
    return min(seen) if seen else None


def appearance_order(
    scene: SceneView,
    categories: Iterable[str],
    min_pixels: int | None = None,
    min_gap_s: float = DEFAULT_MIN_GAP_S,
) -> list[str]:
    """Categories sorted by first appearance; Ambiguous when any is never seen, or two
    first appear in the same frame or less than ``min_gap_s`` seconds apart."""
    categories = list(categories)
    firsts: dict[str, FrameView] = {}
    for category in categories:
        index = category_first_appearance(scene, category, min_pixels)
        if index is None:
            raise Ambiguous(f"'{category}' never appears in the frames")
        firsts[category] = scene.frame(index)
    ordered = sorted(categories, key=lambda c: firsts[c].index)
    for earlier, later in pairwise(ordered):
        a, b = firsts[earlier], firsts[later]
        if a.index == b.index or b.timestamp - a.timestamp < min_gap_s:
            raise Ambiguous(
                f"'{earlier}' and '{later}' first appear {b.timestamp - a.timestamp:.2f} s apart"
            )
    return ordered
