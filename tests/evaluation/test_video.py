"""Uniform frame sampling and PyAV decoding, on generated videos whose frames say their index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from common.errors import UserError
from evaluation.video import count_video_frames, read_video_frames, uniform_frame_indices

FrameNumber = Callable[[Image.Image, int], int]


@pytest.mark.parametrize(
    ("total", "count", "indices"),
    [
        # linspace(0, 39, 8) = 0, 5.57, 11.14, 16.71, 22.29, 27.86, 33.43, 39 -> floored
        (40, 8, [0, 5, 11, 16, 22, 27, 33, 39]),
        # linspace(0, 23, 8) = 0, 3.29, 6.57, 9.86, 13.14, 16.43, 19.71, 23
        (24, 8, [0, 3, 6, 9, 13, 16, 19, 23]),
        (40, 2, [0, 39]),
        (40, 1, [0]),
        (5, 8, [0, 1, 2, 3, 4]),  # a shorter video gives every frame once
        (8, 8, list(range(8))),
    ],
)
def test_uniform_frame_indices(total: int, count: int, indices: list[int]) -> None:
    assert uniform_frame_indices(total, count) == indices


@pytest.mark.parametrize(("total", "count"), [(10, 0), (0, 4)])
def test_uniform_frame_indices_rejects_empty_requests(total: int, count: int) -> None:
    with pytest.raises(ValueError):
        uniform_frame_indices(total, count)


@pytest.fixture(scope="module")
def grey_video(
    tmp_path_factory: pytest.TempPathFactory, grey_video_writer: Callable[[Path, int, int], None]
) -> Path:
    path = tmp_path_factory.mktemp("video") / "walk.mp4"
    grey_video_writer(path, 40, 6)
    return path


def test_reads_the_uniformly_sampled_frames(grey_video: Path, frame_number: FrameNumber) -> None:
    frames = read_video_frames(grey_video, 8)
    assert [frame_number(frame, 6) for frame in frames] == [0, 5, 11, 16, 22, 27, 33, 39]
    assert all(frame.mode == "RGB" and frame.size == (64, 48) for frame in frames)


def test_short_video_gives_all_frames(grey_video: Path, frame_number: FrameNumber) -> None:
    assert count_video_frames(grey_video) == 40
    frames = read_video_frames(grey_video, 100)
    assert [frame_number(frame, 6) for frame in frames] == list(range(40))


def test_missing_video_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "scannet" / "scene0999_00.mp4"
    with pytest.raises(UserError, match=r"scene0999_00\.mp4: video not found"):
        read_video_frames(path, 8)


def test_unreadable_video_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"this is not an mp4 file" * 10)
    with pytest.raises(UserError, match=r"broken\.mp4: cannot read the video"):
        read_video_frames(path, 8)


def test_overstated_frame_count_falls_back_to_decoded_frames(
    grey_video: Path, frame_number: FrameNumber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some containers state more frames than they hold; sampling then uses what decodes."""
    monkeypatch.setattr("evaluation.video.count_video_frames", lambda path: 60)
    frames = read_video_frames(grey_video, 8)
    assert [frame_number(frame, 6) for frame in frames] == [0, 5, 11, 16, 22, 27, 33, 39]
