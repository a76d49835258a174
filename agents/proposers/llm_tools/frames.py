"""The frame tool: show camera frames to a multimodal model, or describe them to a text model.

Images travel as standard LangChain image content blocks (base64 JPEG) inside the tool's
result; the agent moves them into a user message before calling the model, because
OpenAI-compatible servers accept images only in user messages.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from langchain.tools import ToolRuntime
from PIL import Image

import tools.geometry as g
from agents.proposers.llm_tools.context import ToolContext, ToolError, fmt, fmt_vec

#: Key in an image block's metadata naming the frame it shows (kept in audit trajectories).
FRAME_SOURCE_KEY = "frame_source"


def view_frames(frame_indices: list[int], runtime: ToolRuntime[ToolContext]) -> str | list[dict]:
    """Look at camera frames of the video: images if you can see them, else a description.

    At most 4 frames per call (more is an error: split them over several calls); the
    conversation keeps the 8 newest images, older ones become a short note. Each frame
    comes with its time, camera position and heading, and the objects in view with their
    share of the image, marked when cut by the image border.

    Args:
        frame_indices: Frame indices to show, at most 4 per call.
    """
    context = runtime.context
    limit = context.settings.max_frames_per_view
    if not frame_indices:
        raise ToolError("frame_indices is empty; pass one or more frame indices")
    if len(frame_indices) > limit:
        raise ToolError(
            f"{len(frame_indices)} frames requested but at most {limit} can be shown per call; "
            "split them over several calls"
        )
    frames = [context.frame(index) for index in dict.fromkeys(frame_indices)]
    captions = [describe_frame(context, frame) for frame in frames]
    if not context.settings.multimodal:
        return "\n\n".join(captions)
    blocks: list[dict[str, Any]] = []
    missing: list[int] = []
    for frame, caption in zip(frames, captions, strict=True):
        path = frame_image_path(context, frame)
        if path is None:
            missing.append(frame.index)
            blocks.append({"type": "text", "text": caption})
            continue
        blocks.append({"type": "text", "text": caption})
        blocks.append(image_block(path, context.settings.frame_size))
    if missing:
        blocks.append(
            {
                "type": "text",
                "text": f"no image files for frames {missing} (scene folder unknown or frames "
                "not rendered); their descriptions are above",
            }
        )
    return blocks


def describe_frame(context: ToolContext, frame: g.FrameView) -> str:
    """Frame caption: time, camera pose, and visible objects (largest first)."""
    try:
        heading = f"heading {fmt(g.camera_heading(frame), 0)} deg"
    except g.Ambiguous:
        heading = "looking straight up or down"
    known = {o.instance_id: o for o in context.view.objects}
    visible = sorted(
        ((i, n) for i, n in frame.visible.items() if i in known), key=lambda item: -item[1]
    )
    objects = ", ".join(
        f"{known[i].category} (id {i}, {100 * frame.fraction(i):.1f}% of the image"
        f"{', cut by the border' if frame.is_cut(i) else ''})"
        for i, _ in visible
    )
    return (
        f"Frame {frame.index} (t={fmt(frame.timestamp, 1)} s): camera at "
        f"{fmt_vec(frame.position, 1)} m, {heading}. In view: {objects or 'no objects'}."
    )


def frame_image_path(context: ToolContext, frame: g.FrameView) -> Path | None:
    """The frame's image file, when the scene folder is known and the file exists."""
    if context.scene_dir is None or not frame.image_path:
        return None
    path = Path(context.scene_dir) / frame.image_path
    return path if path.is_file() else None


def image_block(path: Path, max_side: int) -> dict[str, Any]:
    """A standard LangChain image content block: the file as a base64 JPEG, longest side capped."""
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except OSError as error:
        raise ToolError(f"frame image {path.name} cannot be read ({error})") from error
    rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=85)
    return {
        "type": "image",
        "base64": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "mime_type": "image/jpeg",
        "extras": {FRAME_SOURCE_KEY: str(path)},
    }
