"""Which frames the solver sees and how they are loaded: uniform over the trajectory, fixed size.

A fixed frame size gives every sample the same number of image tokens, which keeps
batches rectangular and lets questions about the same frames share one cached prefix.
Frames shown as a video (evaluation's `paper` protocol) keep their native size and aspect
ratio; the model's video processor sizes them. The frame settings a checkpoint was
trained with are saved beside it (`frame_settings.json`), so evaluation can show it the
same frames.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from PIL import Image
from pydantic import BaseModel, Field, ValidationError

from common.io import atomic_write_text
from scenes.sampling import uniform_positions
from scenes.schema import Scene

FRAME_SETTINGS_FILE = "frame_settings.json"
FrameInput = Literal["images", "video"]


class FrameSettings(BaseModel):
    """How a checkpoint saw its frames in training; `ouroboros eval` reads it by default."""

    num_frames: int = Field(ge=1, description="Frames per question.")
    frame_size: int = Field(ge=1, description="Frames resized to frame_size x frame_size px.")
    frame_input: FrameInput = Field(default="images", description="Separate images or a video.")
    written_by: str = Field(default="training", description="What saved these settings.")


def save_frame_settings(folder: str | Path, settings: FrameSettings) -> Path:
    """Write `frame_settings.json` into a checkpoint folder (atomically)."""
    path = Path(folder) / FRAME_SETTINGS_FILE
    atomic_write_text(path, settings.model_dump_json(indent=1) + "\n")
    return path


def load_frame_settings(model: str | Path) -> FrameSettings | None:
    """The settings saved beside a local checkpoint; None for a hub id or a folder without."""
    path = Path(model) / FRAME_SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        return FrameSettings.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValidationError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path}: not a valid frame settings file ({error}); delete it, or pass the "
            "frame settings explicitly (--protocol, --frames, --frame-size)"
        ) from error


class ClipTiming(BaseModel):
    """Where a video's sampled frames sit in it, so a video model's timestamps are right."""

    positions: list[int] = Field(description="Index of each shown frame in the source video.")
    fps: float = Field(gt=0, description="The source video's frame rate.")
    total_frames: int = Field(ge=1, description="Frames in the source video.")


def uniform_frame_indices(trajectory: list[int], num_frames: int) -> list[int]:
    """`num_frames` frame indices spread evenly from the first to the last frame (all if fewer)."""
    if not trajectory:
        raise ValueError("the scene has no frames to sample from")
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    return [trajectory[p] for p in uniform_positions(len(trajectory), num_frames)]


def choose_frames(scene: Scene, frame_indices: list[int] | None, num_frames: int) -> list[int]:
    """The question's own frames when it names them, else a uniform sample of the trajectory."""
    known = [frame.index for frame in scene.frames]
    if frame_indices is None:  # orbit views are not part of the video
        return uniform_frame_indices([f.index for f in scene.walkthrough_frames], num_frames)
    missing = sorted(set(frame_indices) - set(known))
    if missing:
        raise ValueError(
            f"scene {scene.id} has no frames with index {missing}; it has {len(known)} frames "
            f"(indices {known[0] if known else '-'}..{known[-1] if known else '-'})"
        )
    return list(frame_indices)


def frame_paths(scene: Scene, scene_dir: Path, frame_indices: list[int]) -> list[Path]:
    """Image files of the given frames, resolved against the scene folder."""
    by_index = {frame.index: frame for frame in scene.frames}
    paths = []
    for index in frame_indices:
        frame = by_index.get(index)
        if frame is None or not frame.image_path:
            raise ValueError(
                f"scene {scene.id}: frame {index} has no image; render the scene's frames first "
                "('ouroboros scenes generate' writes them)"
            )
        paths.append(Path(scene_dir) / frame.image_path)
    return paths


def load_frame(path: Path, size: int | None) -> Image.Image:
    """An RGB frame resized to size x size pixels (bicubic); None keeps its own size."""
    if not path.exists():
        raise FileNotFoundError(f"frame image {path} is missing; re-render or re-import the scene")
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if size is not None and rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.Resampling.BICUBIC)
    return rgb


def resize_frames(images: list[Image.Image], size: int | None) -> list[Image.Image]:
    """In-memory frames brought to the fixed size, so they batch with frames loaded from disk
    (None: RGB at their own size, for video input)."""
    resized = []
    for image in images:
        rgb = image.convert("RGB")
        keep = size is None or rgb.size == (size, size)
        resized.append(rgb if keep else rgb.resize((size, size), Image.Resampling.BICUBIC))
    return resized
