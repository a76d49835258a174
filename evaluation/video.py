"""Uniform frame sampling from mp4 videos, decoded with PyAV (its wheels carry ffmpeg).

The sampling rule is the one lmms-eval's video models use on VSI-Bench
(`np.linspace(0, total - 1, count, dtype=int)`: first and last frame included, the rest
evenly spaced, positions floored), so a model sees the frames it would see there. Qwen's
video path in the paper's harness (qwen-vl-utils) rounds the same positions instead
(`rounding="round"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import numpy as np
from PIL import Image

from common.errors import UserError
from scenes.sampling import uniform_positions

Rounding = Literal["floor", "round"]


def uniform_frame_indices(total_frames: int, count: int, rounding: Rounding = "floor") -> list[int]:
    """`count` evenly spaced indices into `total_frames` frames; every frame if it has fewer.

    "floor": LLaVA-OneVision's `np.linspace(..., dtype=int)`; "round": qwen-vl-utils'
    `torch.linspace(...).round()`."""
    if rounding == "floor" or total_frames <= count:
        return uniform_positions(total_frames, count)
    if rounding != "round":
        raise ValueError(f"rounding must be 'floor' or 'round', got {rounding!r}")
    return np.linspace(0, total_frames - 1, count).round().astype(int).tolist()


@dataclass(frozen=True)
class VideoClip:
    """Sampled frames with where they sit in the video and its frame rate."""

    frames: list[Image.Image]
    positions: list[int]
    fps: float
    total_frames: int


def _unreadable(path: Path, problem: str) -> UserError:
    return UserError(
        f"{path}: cannot read the video ({problem}); replace it with a playable mp4 "
        "(re-extract it from the benchmark's zip)"
    )


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise UserError(
            f"{path}: video not found; benchmark videos go at {{data_root}}/{{dataset}}/"
            "{scene_name}.mp4 (for VSI-Bench, unzip arkitscenes.zip, scannet.zip and "
            "scannetpp.zip into the data root)"
        )
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise _unreadable(path, str(error)) from error
    if not container.streams.video:
        container.close()
        raise _unreadable(path, "it has no video stream")
    return container


def _decode_selected(path: Path, wanted: list[int]) -> tuple[dict[int, Image.Image], int]:
    """Decode in order, keep the wanted frames; also return how many frames were decoded."""
    wanted_set = set(wanted)
    kept: dict[int, Image.Image] = {}
    decoded = 0
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted_set:
                    kept[index] = frame.to_image()
                decoded = index + 1
                if wanted_set and len(kept) == len(wanted_set):
                    break
        except av.error.FFmpegError as error:
            raise _unreadable(path, str(error)) from error
    return kept, decoded


def count_video_frames(path: Path) -> int:
    """Frames in the video: the container's count when it states one, else by decoding."""
    with _open(path) as container:
        stated = container.streams.video[0].frames
    if stated > 0:
        return stated
    _, decoded = _decode_selected(path, [])
    return decoded


def video_fps(path: Path) -> float:
    """The stream's average frame rate (24 when the container states none)."""
    with _open(path) as container:
        rate = container.streams.video[0].average_rate
    return float(rate) if rate else 24.0


def read_video_clip(path: str | Path, count: int, rounding: Rounding = "floor") -> VideoClip:
    """`count` uniformly sampled frames of an mp4 (all of a shorter video), with timing."""
    path = Path(path)
    total = count_video_frames(path)
    if total < 1:
        raise _unreadable(path, "it has no frames")
    wanted = uniform_frame_indices(total, count, rounding)
    kept, decoded = _decode_selected(path, wanted)
    if len(kept) < len(wanted):
        # The container overstated its frame count: sample again over the frames it has.
        if decoded < 1:
            raise _unreadable(path, "no frame could be decoded")
        total = decoded
        wanted = uniform_frame_indices(decoded, count, rounding)
        kept, _ = _decode_selected(path, wanted)
    return VideoClip([kept[index] for index in wanted], wanted, video_fps(path), total)


def read_video_frames(path: str | Path, count: int) -> list[Image.Image]:
    """`count` uniformly sampled frames of an mp4 as RGB images (all of a shorter video)."""
    return read_video_clip(path, count).frames
