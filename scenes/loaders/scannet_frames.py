"""Frames of a ScanNet scene as exported by ScanNet's SensReader.

Layout inside the scene folder: ``pose/<i>.txt`` (4x4 camera-to-world, OpenCV camera
axes, in the raw scan frame), ``intrinsic/intrinsic_color.txt`` (4x4, K in the top
left) and optionally ``color/<i>.jpg``; ``<i>`` is the frame number in the 30 fps
video. Poses are moved into the axis-aligned frame. ScanNet marks frames whose
tracking was lost with non-finite poses (``-inf``); those frames are skipped and
counted. Which instances each frame shows is unknown, so ``visible`` stays empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from scenes.errors import SceneDataError
from scenes.schema import FRAMES_DIR, CameraIntrinsics, Frame

SCANNET_FPS = 30.0


def read_frames(
    scene_dir: Path, alignment: np.ndarray, meta: dict[str, str], meta_path: Path
) -> tuple[list[Frame], dict[str, Path], int]:
    """Frames, the image files to copy (scene-relative path -> source) and skipped count.

    `meta` holds the ``key = value`` lines of ``<scene>.txt`` (read from `meta_path`),
    whose colorWidth/colorHeight give the image size when no colour image is exported.
    """
    pose_dir = scene_dir / "pose"
    if not pose_dir.is_dir():
        return [], {}, 0
    pose_files = sorted(pose_dir.glob("*.txt"), key=_frame_number)
    if not pose_files:
        return [], {}, 0
    color_dir = scene_dir / "color"
    intrinsics = _intrinsics(scene_dir, color_dir, pose_files, meta, meta_path)
    frames: list[Frame] = []
    files: dict[str, Path] = {}
    skipped = 0
    for pose_path in pose_files:
        pose = _read_matrix(pose_path, allow_non_finite=True)
        if not np.all(np.isfinite(pose)):
            skipped += 1
            continue
        if not np.allclose(pose[3], [0, 0, 0, 1], atol=1e-6):
            raise SceneDataError(pose_path, "row 4", "the last row of a pose must be 0 0 0 1")
        index = len(frames)
        image = color_dir / f"{pose_path.stem}.jpg"
        image_path = None
        if image.is_file():
            image_path = f"{FRAMES_DIR}/{index:05d}.jpg"
            files[image_path] = image
        frames.append(
            Frame(
                index=index,
                timestamp=_frame_number(pose_path) / SCANNET_FPS,
                intrinsics=intrinsics,
                camera_to_world=_as_tuple(alignment @ pose),
                image_path=image_path,
            )
        )
    return frames, files, skipped


def _frame_number(path: Path) -> int:
    if not path.stem.isdigit():
        raise SceneDataError(path, "<file name>", "pose files must be named <frame number>.txt")
    return int(path.stem)


def _intrinsics(
    scene_dir: Path,
    color_dir: Path,
    pose_files: list[Path],
    meta: dict[str, str],
    meta_path: Path,
) -> CameraIntrinsics:
    path = scene_dir / "intrinsic" / "intrinsic_color.txt"
    if not path.is_file():
        raise SceneDataError(
            path, "<file>", "file not found", "SensReader exports it beside pose/ and color/"
        )
    matrix = _read_matrix(path, allow_non_finite=False)
    fx, fy, cx, cy = matrix[0, 0], matrix[1, 1], matrix[0, 2], matrix[1, 2]
    if fx <= 0 or fy <= 0:
        raise SceneDataError(path, "fx, fy", f"focal lengths must be > 0, got {fx}, {fy}")
    width, height = _image_size(color_dir, pose_files, meta, meta_path)
    return CameraIntrinsics(
        width=width, height=height, fx=float(fx), fy=float(fy), cx=float(cx), cy=float(cy)
    )


def _image_size(
    color_dir: Path, pose_files: list[Path], meta: dict[str, str], meta_path: Path
) -> tuple[int, int]:
    """From the first colour image, else from colorWidth/colorHeight in ``<scene>.txt``."""
    for pose_path in pose_files:
        image = color_dir / f"{pose_path.stem}.jpg"
        if image.is_file():
            try:
                with Image.open(image) as handle:
                    return handle.size
            except OSError as error:
                raise SceneDataError(image, "<file>", f"not a readable image ({error})") from error
    try:
        return int(meta["colorWidth"]), int(meta["colorHeight"])
    except (KeyError, ValueError) as error:
        raise SceneDataError(
            meta_path,
            "colorWidth, colorHeight",
            "missing or not integers, and no color/<i>.jpg to read the size from",
        ) from error


def _read_matrix(path: Path, *, allow_non_finite: bool) -> np.ndarray:
    try:
        matrix = np.loadtxt(path, dtype=float, ndmin=2)
    except ValueError as error:
        raise SceneDataError(path, "matrix", f"not a 4x4 matrix of numbers ({error})") from error
    if matrix.shape != (4, 4):
        raise SceneDataError(path, "matrix", f"expected 4x4 numbers, got shape {matrix.shape}")
    if not allow_non_finite and not np.all(np.isfinite(matrix)):
        raise SceneDataError(path, "matrix", "values must be finite numbers")
    return matrix


def _as_tuple(matrix: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in matrix)
