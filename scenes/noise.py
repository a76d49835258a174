"""Scenes whose frames are random noise: frames on disk for benchmarks and tests, no rendering.

The camera slides 10 cm along x per frame at 1.5 m height in a 4 x 3 m room; the frames
are reproducible from the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject

#: A chair and a table, so object questions about a noise scene name real instances.
CHAIR_AND_TABLE: tuple[SceneObject, ...] = (
    SceneObject(
        instance_id=1,
        category="chair",
        box=OrientedBox(center=(1, 1, 0.4), extents=(0.5, 0.5, 0.8)),
    ),
    SceneObject(
        instance_id=2,
        category="table",
        box=OrientedBox(center=(2, 2, 0.4), extents=(1.2, 0.8, 0.8)),
    ),
)


def save_with_noise_frames(
    scene: Scene, scene_dir: Path, *, width: int, height: int, seed: int | np.random.Generator = 0
) -> Scene:
    """Save `scene` with a noise PNG per frame at frames/{index:04d}.png; `seed` may be a
    shared rng. Returns the scene as saved (its frames pointing at the images)."""
    rng = np.random.default_rng(seed)
    (scene_dir / "frames").mkdir(parents=True, exist_ok=True)
    frames = []
    for frame in scene.frames:
        relative = f"frames/{frame.index:04d}.png"
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(scene_dir / relative)
        frames.append(frame.model_copy(update={"image_path": relative}))
    saved = scene.model_copy(update={"frames": tuple(frames)})
    saved.save(scene_dir)
    return saved


def write_noise_scene(
    scene_dir: Path,
    scene_id: str,
    *,
    num_frames: int,
    width: int,
    height: int,
    seed: int | np.random.Generator = 0,
    objects: Sequence[SceneObject] = CHAIR_AND_TABLE,
    seconds_per_frame: float = 0.5,
) -> Scene:
    """A scene of `num_frames` noise frames, saved to `scene_dir` (see the module docstring)."""
    intrinsics = CameraIntrinsics(
        width=width, height=height, fx=height, fy=height, cx=width / 2, cy=height / 2
    )
    frames = [
        Frame(
            index=i,
            timestamp=i * seconds_per_frame,
            intrinsics=intrinsics,
            camera_to_world=(
                (1.0, 0.0, 0.0, 0.1 * i),
                (0.0, 1.0, 0.0, 0.0),
                (0.0, 0.0, 1.0, 1.5),
                (0.0, 0.0, 0.0, 1.0),
            ),
        )
        for i in range(num_frames)
    ]
    scene = Scene(
        id=scene_id,
        source="procedural",
        room=Room(floor_polygon=((0, 0), (4, 0), (4, 3), (0, 3)), height=2.6, area=12.0),
        objects=tuple(objects),
        frames=tuple(frames),
    )
    return save_with_noise_frames(scene, scene_dir, width=width, height=height, seed=seed)
