"""Uniform frame sampling from mp4 videos, decoded with PyAV (its wheels carry ffmpeg).

The sampling rule is the one lmms-eval's video models use on VSI-Bench
(`np.linspace(0, total - 1, count, dtype=int)`: first and last frame included, the rest
evenly spaced, positions floored), so a model sees the frames it would see there.
"""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from scenes.errors import UserError
from scenes.sampling import uniform_positions


def uniform_frame_indices(total_frames: int, count: int) -> list[int]:
    """`count` evenly spaced indices into `total_frames` frames; every frame if it has fewer."""
    return uniform_positions(total_frames, count)


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


def read_video_frames(path: str | Path, count: int) -> list[Image.Image]:
    """`count` uniformly sampled frames of an mp4 as RGB images (all of a shorter video)."""
    path = Path(path)
    total = count_video_frames(path)
    if total < 1:
        raise _unreadable(path, "it has no frames")
    wanted = uniform_frame_indices(total, count)
    kept, decoded = _decode_selected(path, wanted)
    if len(kept) < len(wanted):
        # The container overstated its frame count: sample again over the frames it has.
        if decoded < 1:
            raise _unreadable(path, "no frame could be decoded")
        wanted = uniform_frame_indices(decoded, count)
        kept, _ = _decode_selected(path, wanted)
    return [kept[index] for index in wanted]
