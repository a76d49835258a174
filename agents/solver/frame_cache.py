"""The frames of solver items, loaded once at the fixed size and kept for the next few items.

It sits above both frames.py (how frames are chosen and loaded) and items.py (the
`SolverItem` record), so neither of those needs the other's names at type-check time.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PIL import Image

from agents.solver.frames import frame_paths, load_frame, resize_frames
from agents.solver.items import SolverItem
from scenes.schema import Scene


class FrameCache:
    """Loads an item's frames at the fixed size (None: native size); keeps the last few."""

    def __init__(self, frame_size: int | None, capacity: int = 8) -> None:
        self.frame_size = frame_size
        self.capacity = capacity
        self._frames: OrderedDict[str, list[Image.Image]] = OrderedDict()
        self._scenes: dict[Path, Scene] = {}

    def load(self, item: SolverItem) -> list[Image.Image]:
        key = item.frame_set_key()
        if key in self._frames:
            self._frames.move_to_end(key)
            return self._frames[key]
        if item.images is not None:
            images = resize_frames(list(item.images), self.frame_size)
        elif item.scene_dir is not None:
            scene_dir = Path(item.scene_dir)
            if scene_dir not in self._scenes:
                self._scenes[scene_dir] = Scene.load(scene_dir)
            paths = frame_paths(self._scenes[scene_dir], scene_dir, list(item.frame_indices or []))
            images = [load_frame(path, self.frame_size) for path in paths]
        else:
            images = []
        self._frames[key] = images
        while len(self._frames) > self.capacity:
            self._frames.popitem(last=False)
        return images

    def for_item(self, item: SolverItem, blind: bool) -> list[Image.Image]:
        """The frames the model sees for `item`: none when blind, an error when it has none."""
        if blind:
            return []
        images = self.load(item)
        if not images:
            raise ValueError(
                f"item {item.sample_id or item.question[:40]!r} has no frames; give scene_dir + "
                "frame_indices or images, or score it with blind=True"
            )
        return images
