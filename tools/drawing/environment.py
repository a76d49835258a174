"""The drawing tools as an environment: one instance per conversation, methods are the tools.

The same class serves the multi-turn solver and TRL's ``GRPOTrainer(environment_factory=...)``:
TRL calls ``reset(**row)`` before each rollout (the row's ``images`` are the frames), turns
every public method into a tool from its signature and docstring, and passes each tool's
return value back as the tool message. A list of content blocks with an image is a
multimodal tool message: the drawn image is shown to the model and enters the forward pass.
Tool errors are returned as text, so a bad call costs the model a turn, never the run.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from tools.drawing.board import MAX_IMAGES, DrawingBoard, DrawingError
from tools.geometry.image_space import CoordinateMode


class DrawingEnvironment:
    """Object mapper and path tracer over the frames of one question."""

    coordinates: CoordinateMode = "pixels"
    max_images: int = MAX_IMAGES

    def __init__(
        self,
        frames: list[Image.Image] | None = None,
        coordinates: CoordinateMode | None = None,
        max_images: int | None = None,
    ) -> None:
        if coordinates is not None:
            self.coordinates = coordinates
        if max_images is not None:
            self.max_images = max_images
        self.board: DrawingBoard | None = None
        self.errors: list[str] = []
        if frames:
            self.reset(images=frames)

    def reset(self, **row: Any) -> None:
        """Start a new conversation on the row's frames (``images``)."""
        frames = row.get("images") or []
        self.errors = []
        self.board = (
            DrawingBoard(list(frames), self.coordinates, self.max_images) if frames else None
        )

    def object_mapper(self, image_index: int, objects: list[dict]) -> list[dict[str, Any]] | str:
        """Draw labelled bounding boxes on a copy of an image and show the result as a new image.

        Args:
            image_index: 1-based index of the image to draw on (frames first, then drawn images).
            objects: Boxes to draw, each {"bbox_2d": [x1, y1, x2, y2], "label": "name"}; a label drawn before on that image is replaced.
        """
        return self._run("object_mapper", image_index, objects)

    def path_tracer(self, image_index: int, paths: list[dict]) -> list[dict[str, Any]] | str:
        """Draw labelled lines (start point red, end point blue) on a copy of an image and show it.

        Args:
            image_index: 1-based index of the image to draw on (frames first, then drawn images).
            paths: Lines to draw, each {"start_point_2d": [x, y], "end_point_2d": [x, y], "label": "name"}; a label drawn before on that image is replaced.
        """
        return self._run("path_tracer", image_index, paths)

    def _run(self, tool: str, image_index: Any, items: Any) -> list[dict[str, Any]] | str:
        if self.board is None:
            return "Error: there are no images to draw on."
        try:
            output = getattr(self.board, tool)(image_index, items)
        except DrawingError as error:
            self.errors.append(str(error))
            return f"Error: {error}"
        return output.content()


def tool_schemas() -> list[dict[str, Any]]:
    """JSON schemas of the two tools, as ``apply_chat_template(tools=...)`` renders them."""
    from transformers.utils import get_json_schema

    environment = DrawingEnvironment()
    return [get_json_schema(environment.object_mapper), get_json_schema(environment.path_tracer)]
