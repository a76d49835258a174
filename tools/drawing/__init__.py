"""Drawing tools a solver calls between turns: boxes ("object mapper") and lines ("path tracer").

``DrawingBoard`` holds the images of one conversation and implements both tools with
ViLaSR's semantics; ``frame_geometry`` gives the exact boxes and points of a scene's
objects in the solver's frames (for ground-truth trajectories and tests).
"""

from tools.drawing.board import (
    MAX_IMAGES,
    DrawingBoard,
    DrawingError,
    ToolOutput,
    index_text,
)

__all__ = ["MAX_IMAGES", "DrawingBoard", "DrawingError", "ToolOutput", "index_text"]
