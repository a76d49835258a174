"""A small hand-built bedroom-living room with a camera walk: answers known by hand.

Used by the task docs (docs/tasks.md) and the tests, so every task can be shown and checked
on a scene whose numbers a person can verify: a 6 m x 5 m room (30 m^2), axis-aligned
furniture, three chairs, and 24 frames whose per-instance pixel counts come from projecting
each box (no occlusion), so visibility is exact for boxes in front of the camera.
"""

from __future__ import annotations

import math

import numpy as np

from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject

WIDTH, HEIGHT, FOCAL = 320, 240, 200.0

#: (category, centre, extents) in metres; the room spans x 0..6, y 0..5, z 0..2.8.
FURNITURE: tuple[tuple[str, tuple[float, float, float], tuple[float, float, float]], ...] = (
    ("bed", (1.0, 3.5, 0.3), (2.0, 1.6, 0.6)),
    ("sofa", (4.5, 0.6, 0.4), (2.0, 0.9, 0.8)),
    ("tv", (5.85, 3.0, 1.2), (0.1, 1.2, 0.7)),
    ("table", (3.0, 2.5, 0.375), (1.2, 0.8, 0.75)),
    ("lamp", (0.4, 0.4, 0.8), (0.3, 0.3, 1.6)),
    ("plant", (5.5, 4.5, 0.5), (0.4, 0.4, 1.0)),
    ("chair", (3.0, 1.7, 0.45), (0.5, 0.5, 0.9)),
    ("chair", (3.0, 3.3, 0.45), (0.5, 0.5, 0.9)),
    ("chair", (2.0, 2.5, 0.45), (0.5, 0.5, 0.9)),
    ("wardrobe", (0.35, 1.5, 1.0), (0.6, 1.2, 2.0)),
)


def _look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Camera-to-world pose (OpenCV axes: x right, y down, z forward) looking at `target`."""
    forward = target - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return pose


def _pixels(pose: np.ndarray, box: OrientedBox) -> int:
    """Pixels of the box's projected bounding rectangle inside the image (0 if behind)."""
    world_to_camera = np.linalg.inv(pose)
    corners = np.c_[box.corners(), np.ones(8)] @ world_to_camera.T
    in_front = corners[corners[:, 2] > 0.05]
    if len(in_front) < 8:
        return 0
    u = FOCAL * in_front[:, 0] / in_front[:, 2] + WIDTH / 2
    v = FOCAL * in_front[:, 1] / in_front[:, 2] + HEIGHT / 2
    width = min(u.max(), WIDTH) - max(u.min(), 0.0)
    height = min(v.max(), HEIGHT) - max(v.min(), 0.0)
    return int(max(width, 0.0) * max(height, 0.0))


def demo_scene(num_frames: int = 24) -> Scene:
    """The hand-built scene; the camera walks a loop at 1.5 m, looking ahead and swaying.

    Categories first appear in this order (frame index): plant 0, bed and chair 2, table
    4, wardrobe 5, lamp 6, sofa 14, tv 19.
    """
    objects = tuple(
        SceneObject(instance_id=i, category=c, box=OrientedBox(center=center, extents=extents))
        for i, (c, center, extents) in enumerate(FURNITURE, start=1)
    )
    intrinsics = CameraIntrinsics(
        width=WIDTH, height=HEIGHT, fx=FOCAL, fy=FOCAL, cx=WIDTH / 2, cy=HEIGHT / 2
    )
    frames = []
    for index in range(num_frames):
        angle = 2 * math.pi * index / num_frames
        position = np.array([3.0 + 2.2 * math.cos(angle), 2.5 + 1.7 * math.sin(angle), 1.5])
        look = angle + math.pi - 1.6 + 0.3 * math.sin(angle)  # about the walking direction
        target = np.array([position[0] + math.cos(look), position[1] + math.sin(look), 0.7])
        pose = _look_at(position, target)
        visible = {o.instance_id: n for o in objects if (n := _pixels(pose, o.box)) > 0}
        frames.append(
            Frame(
                index=index,
                timestamp=index * 0.5,
                intrinsics=intrinsics,
                camera_to_world=tuple(tuple(float(x) for x in row) for row in pose),
                visible=visible,
            )
        )
    return Scene(
        id="demo-room",
        source="procedural",
        room=Room(floor_polygon=((0, 0), (6, 0), (6, 5), (0, 5)), height=2.8, area=30.0),
        objects=objects,
        frames=tuple(frames),
        provenance={"builder": "agents.tasks.demo_scene"},
    )
