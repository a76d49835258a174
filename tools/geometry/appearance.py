"""When objects first appear in the video, from per-frame visibility.

An object "appears" in a frame when it is clearly visible there (``FrameView.clearly_visible``:
at least 0.3 % of the image, 2 % when its 2D box is cut by the image border; constants in
``rules.py``), so slivers at an image border do not count. Passing ``min_pixels`` replaces
that rule by a plain pixel count. ``frames`` restricts the search to some frame indices,
e.g. the frames the solver sees. VSI-Bench's obj_appearance_order asks for the order of
first appearance of categories and drops orders whose times are within 1 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

from .rules import APPEARANCE_MIN_GAP_S
from .scene_view import Ambiguous, FrameView, Object3D, SceneView

DEFAULT_MIN_GAP_S = APPEARANCE_MIN_GAP_S


def appears_in(frame: FrameView, instance_id: int, min_pixels: int | None = None) -> bool:
    """Whether the instance counts as appeared in ``frame`` (clearly visible, or at least
    ``min_pixels`` pixels when given)."""
    if min_pixels is not None:
        return frame.pixels(instance_id) >= max(int(min_pixels), 1)
    return frame.clearly_visible(instance_id)


def _frames(scene: SceneView, frames: Sequence[int] | None) -> list[FrameView]:
    if frames is None:
        return list(scene.frames)
    return sorted((scene.frame(i) for i in frames), key=lambda f: f.index)


def first_appearance(
    scene: SceneView,
    instance: int | Object3D,
    min_pixels: int | None = None,
    frames: Sequence[int] | None = None,
) -> int | None:
    """Index of the first frame (of ``frames``, default all) where the instance appears."""
    instance_id = instance.instance_id if isinstance(instance, Object3D) else int(instance)
    for frame in _frames(scene, frames):
        if appears_in(frame, instance_id, min_pixels):
            return frame.index
    return None


def first_appearances(
    scene: SceneView, min_pixels: int | None = None, frames: Sequence[int] | None = None
) -> dict[int, int]:
    """Instance id -> first frame index, for every instance that ever appears."""
    first: dict[int, int] = {}
    for frame in _frames(scene, frames):
        for instance_id in frame.visible:
            if instance_id not in first and appears_in(frame, instance_id, min_pixels):
                first[instance_id] = frame.index
    return first


def category_first_appearance(
    scene: SceneView,
    category: str,
    min_pixels: int | None = None,
    frames: Sequence[int] | None = None,
) -> int | None:
    """First frame index in which any object of the category appears (None if never)."""
    indices = [first_appearance(scene, o, min_pixels, frames) for o in scene.objects_of(category)]
    seen = [i for i in indices if i is not None]
    return min(seen) if seen else None


def appearance_order(
    scene: SceneView,
    categories: Iterable[str],
    min_pixels: int | None = None,
    min_gap_s: float = DEFAULT_MIN_GAP_S,
    frames: Sequence[int] | None = None,
) -> list[str]:
    """Categories sorted by first appearance (within ``frames``, default all); Ambiguous when
    any never appears, or two first appear in the same frame or less than ``min_gap_s``
    seconds apart."""
    categories = list(categories)
    firsts: dict[str, FrameView] = {}
    for category in categories:
        index = category_first_appearance(scene, category, min_pixels, frames)
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
