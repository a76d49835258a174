"""Where a scene's objects are in the frames the solver sees (square ``size`` x ``size``).

Procedural scenes carry instance masks: the frame is re-rendered at the solver's size
(intrinsics scaled, so the squeeze of a non-square frame is reproduced exactly) and boxes
come from that instance buffer, which is what the solver's pixels show. Real scenes
(VSI-Bench meta info, ScanNet boxes) have no masks: boxes come from projected corners.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenes.schema import CameraIntrinsics, Frame, Scene
from tools.geometry.image_space import (
    Box2D,
    depth_visible,
    mask_boxes,
    project_points,
    projected_box,
    scale_intrinsics,
)


def solver_intrinsics(frame: Frame, size: int) -> CameraIntrinsics:
    """The frame's camera resampled to size x size pixels."""
    k = frame.intrinsics
    scaled = scale_intrinsics(k.matrix, (k.width, k.height), (size, size))
    return CameraIntrinsics(
        width=size,
        height=size,
        fx=float(scaled[0, 0]),
        fy=float(scaled[1, 1]),
        cx=float(scaled[0, 2]),
        cy=float(scaled[1, 2]),
    )


@dataclass
class FrameGeometry:
    """Boxes, depth and point projections of one scene at the solver's frame size (cached)."""

    scene: Scene
    size: int
    use_masks: bool | None = field(
        default=None,
        metadata={"help": "Re-render instance masks; None: when the scene's frames have masks."},
    )
    _renders: dict[int, tuple[dict[int, Box2D], np.ndarray | None]] = field(
        default_factory=dict, init=False, repr=False
    )
    _renderer: object | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.use_masks is None:
            self.use_masks = any(frame.instance_path for frame in self.scene.frames)

    def frame(self, index: int) -> Frame:
        for frame in self.scene.frames:
            if frame.index == index:
                return frame
        raise KeyError(f"scene {self.scene.id} has no frame {index}")

    def _render(self, index: int) -> tuple[dict[int, Box2D], np.ndarray | None]:
        if index not in self._renders:
            frame = self.frame(index)
            if self.use_masks:
                from scenes.render.raycast import RenderConfig, Renderer

                if self._renderer is None:
                    self._renderer = Renderer(self.scene, config=RenderConfig(threads=1))
                result = self._renderer.render(solver_intrinsics(frame, self.size), frame.pose)  # type: ignore[attr-defined]
                self._renders[index] = (mask_boxes(result.object_ids()), result.depth)
            else:
                self._renders[index] = (self._projected_boxes(frame), None)
        return self._renders[index]

    def _projected_boxes(self, frame: Frame) -> dict[int, Box2D]:
        k = solver_intrinsics(frame, self.size).matrix
        boxes = {}
        candidates = frame.visible or {obj.instance_id: 0 for obj in self.scene.objects}
        for instance_id in candidates:
            box = projected_box(
                self.scene.object(instance_id).box.corners(), k, frame.pose, self.size, self.size
            )
            if box is not None:
                boxes[instance_id] = box
        return boxes

    def boxes(self, index: int) -> dict[int, Box2D]:
        """Instance id -> box in frame ``index`` (only instances that show)."""
        return self._render(index)[0]

    def depth(self, index: int) -> np.ndarray | None:
        return self._render(index)[1]

    def point(self, index: int, world: np.ndarray) -> tuple[float, float] | None:
        """Pixel of a world point in frame ``index``, or None when out of view or occluded."""
        frame = self.frame(index)
        k = solver_intrinsics(frame, self.size).matrix
        pixels, depth = project_points(np.asarray(world, dtype=float)[None], k, frame.pose)
        if not depth_visible(pixels, depth, self.depth(index), tolerance_m=0.1)[0]:
            return None
        x, y = pixels[0]
        if not (0 <= x < self.size and 0 <= y < self.size):
            return None
        return float(x), float(y)

    def best_frame(self, instance_ids: list[int], candidates: list[int]) -> int | None:
        """The candidate frame showing all of ``instance_ids`` with the most pixels (or area)."""
        best, best_score = None, 0.0
        for index in candidates:
            boxes = self.boxes(index)
            if not all(i in boxes for i in instance_ids):
                continue
            score = sum(boxes[i].pixels or boxes[i].area for i in instance_ids)
            if score > best_score:
                best, best_score = index, score
        return best

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()  # type: ignore[attr-defined]
            self._renderer = None
