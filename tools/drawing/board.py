"""The drawing board of one conversation: ViLaSR's two tools over a growing list of images.

Semantics (from ViLaSR's ``edit_image.py``, kept exactly):

- image indices are 1-based over every image in the conversation (frames first, then
  each drawn image in order);
- a call on image i starts from image i's *unannotated* source with image i's earlier
  annotations, replaces items that have the same label, adds the rest, and appends the
  result as a new image (image i itself never changes);
- boxes and lines live side by side: drawing boxes keeps image i's lines and vice versa;
- the reply names the new image: "The index of the given image is k (width: W, height: H)";
- at most ``MAX_IMAGES`` images (42) per conversation.

Coordinates are in the model's convention (``pixels`` of the shown image, or Qwen3-VL's
``norm1000``) and stored in pixels. Redrawing a label with a different box is a
*reflection* (ViLaSR's reflection signal, over the whole conversation); the board
counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from tools.drawing.paint import paint
from tools.geometry.image_space import CoordinateMode, check_mode, from_coordinates

MAX_IMAGES = 42


class DrawingError(ValueError):
    """A tool call the board cannot carry out; the message goes back to the model."""


def index_text(index: int, image: Image.Image) -> str:
    width, height = image.size
    return f"The index of the given image is {index} (width: {width}, height: {height})"


@dataclass
class Annotations:
    """What has been drawn on one image, by label, in drawing order (pixels)."""

    boxes: dict[str, list[float]] = field(default_factory=dict)
    lines: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)

    def copy(self) -> Annotations:
        return Annotations(dict(self.boxes), dict(self.lines))


@dataclass(frozen=True)
class ToolOutput:
    """A drawn image, its 1-based index, and the text that introduces it to the model."""

    image: Image.Image
    index: int
    text: str

    def content(self) -> list[dict[str, Any]]:
        """Multimodal tool-message content (the form TRL's tool loop passes through)."""
        return [{"type": "image", "image": self.image}, {"type": "text", "text": self.text}]


def _numbers(value: Any, count: int, what: str) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise DrawingError(f"{what} must be a list of {count} numbers, got {value!r}")
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        raise DrawingError(f"{what} must hold numbers, got {value!r}") from None


def _label(item: dict[str, Any]) -> str:
    label = item.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DrawingError(f"every item needs a non-empty 'label' string, got {item!r}")
    return label.strip()


class DrawingBoard:
    """Images of one conversation and the annotations drawn on each."""

    def __init__(
        self,
        frames: list[Image.Image],
        coordinates: CoordinateMode = "pixels",
        max_images: int = MAX_IMAGES,
    ) -> None:
        if not frames:
            raise ValueError("a drawing board needs at least one frame")
        self.coordinates = check_mode(coordinates)
        self.max_images = max_images
        self.sources: list[Image.Image] = [frame.convert("RGB") for frame in frames]
        self.images: list[Image.Image] = list(self.sources)
        self.annotations: list[Annotations] = [Annotations() for _ in frames]
        self.num_frames = len(frames)
        self.calls = 0
        self.failures = 0
        self.reflections = 0
        self._boxes_by_label: dict[str, set[tuple[float, ...]]] = {}

    # -- the two tools -------------------------------------------------------------------
    def object_mapper(self, image_index: int, objects: list[dict[str, Any]]) -> ToolOutput:
        """Draw labelled boxes ``{"bbox_2d": [x1, y1, x2, y2], "label": ...}`` on a copy of an image."""
        return self._call(image_index, objects, kind="boxes")

    def path_tracer(self, image_index: int, paths: list[dict[str, Any]]) -> ToolOutput:
        """Draw labelled lines ``{"start_point_2d": [x, y], "end_point_2d": [x, y], "label": ...}``."""
        return self._call(image_index, paths, kind="lines")

    # -- machinery -----------------------------------------------------------------------
    def _call(self, image_index: Any, items: Any, kind: str) -> ToolOutput:
        self.calls += 1
        try:
            position = self._position(image_index)
            if len(self.images) >= self.max_images:
                raise DrawingError(
                    f"the conversation already holds {len(self.images)} images, the limit; "
                    "answer with what you have"
                )
            if not isinstance(items, list) or not items:
                raise DrawingError(f"pass a non-empty list of items to draw, got {items!r}")
            annotations = self.annotations[position].copy()
            source = self.sources[position]
            for item in items:
                if not isinstance(item, dict):
                    raise DrawingError(f"each item must be an object, got {item!r}")
                self._merge(annotations, item, kind, source.size)
        except DrawingError:
            self.failures += 1
            raise
        image = paint(source, annotations.boxes, annotations.lines)
        self.sources.append(source)
        self.images.append(image)
        self.annotations.append(annotations)
        return ToolOutput(image, len(self.images), index_text(len(self.images), image))

    def _position(self, image_index: Any) -> int:
        if isinstance(image_index, bool) or not isinstance(image_index, (int, float, str)):
            raise DrawingError(f"image_index must be an integer, got {image_index!r}")
        try:
            index = int(image_index)
        except ValueError:
            raise DrawingError(f"image_index must be an integer, got {image_index!r}") from None
        if not 1 <= index <= len(self.images):
            raise DrawingError(
                f"image_index {index} does not exist: images are numbered 1..{len(self.images)}"
            )
        return index - 1

    def _merge(
        self, annotations: Annotations, item: dict[str, Any], kind: str, size: tuple[int, int]
    ) -> None:
        label = _label(item)
        width, height = size
        if kind == "boxes":
            box = from_coordinates(
                _numbers(item.get("bbox_2d"), 4, "bbox_2d"), width, height, self.coordinates
            )
            seen = self._boxes_by_label.setdefault(label, set())
            if seen and tuple(box) not in seen:
                self.reflections += 1
            seen.add(tuple(box))
            annotations.boxes[label] = box
            return
        start = from_coordinates(
            _numbers(item.get("start_point_2d"), 2, "start_point_2d"),
            width,
            height,
            self.coordinates,
        )
        end = from_coordinates(
            _numbers(item.get("end_point_2d"), 2, "end_point_2d"), width, height, self.coordinates
        )
        annotations.lines[label] = (start, end)
