"""Orbit views: pairs of extra renders around one object, for viewpoint questions (Actial).

Actial's Viewpoint-100K pairs photos of one object taken from two cameras that circle it
horizontally (20-100 degrees apart). We render the same kind of pair inside a procedural
room: pick a unique object that has a front, stand at eye height 1.2-3 m from it, look
at it with a little jitter (so the camera's rotation is not simply the orbit angle), then
step round it by 20-100 degrees and look again. Both cameras must stand on free floor and
the object must show in both instance buffers.

The views are frames of kind ``orbit`` listed after the walkthrough (indices continue),
one pair after another: orbit frames ``2k`` and ``2k + 1`` (in index order) form pair k.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import Point, Polygon

from scenes.procedural.catalog import FRONTED_CATEGORIES
from scenes.procedural.trajectory import look_pose, walkable_floor
from scenes.render import Renderer, RenderResult
from scenes.render.images import frame_names
from scenes.schema import Frame, Scene, SceneObject


@dataclass(frozen=True)
class OrbitConfig:
    """Where orbit cameras may stand and how they look."""

    radius_m: tuple[float, float] = field(
        default=(1.2, 3.0), metadata={"help": "Distance from the object's centre (m)."}
    )
    angle_deg: tuple[float, float] = field(
        default=(20.0, 100.0), metadata={"help": "Horizontal angle between the two cameras."}
    )
    start_deg: float = field(
        default=75.0,
        metadata={"help": "The first camera stands within this angle of the object's front."},
    )
    eye_height_m: tuple[float, float] = field(
        default=(1.3, 1.7), metadata={"help": "Camera height range (m)."}
    )
    look_jitter_deg: float = field(
        default=12.0,
        metadata={"help": "Each camera's heading is off the object's centre by up to this."},
    )
    pitch_jitter_deg: float = field(
        default=4.0, metadata={"help": "And its tilt by up to this (deg)."}
    )
    clearance_m: tuple[float, float] = field(
        default=(0.25, 0.15), metadata={"help": "(wall, furniture) clearance of the cameras (m)."}
    )
    min_visible_fraction: float = field(
        default=0.01, metadata={"help": "The object must cover this share of both views."}
    )
    tries: int = field(default=60, metadata={"help": "Camera pairs tried per wanted pair."})


def is_orbit_target(scene: Scene, obj: SceneObject) -> bool:
    """A unique object with a front (questions can call it 'the X' and face its way)."""
    if obj.category not in FRONTED_CATEGORIES:
        return False
    return sum(1 for o in scene.objects if o.category == obj.category) == 1


def _free_floor(scene: Scene, config: OrbitConfig) -> Polygon | None:
    obstacles = []
    for obj in scene.objects:
        if obj.support is not None or obj.category in ("door", "window"):
            continue
        corners = obj.box.corners()[:, :2]
        obstacles.append(Polygon(corners[[0, 2, 6, 4]]).convex_hull)
    room = Polygon(scene.room.floor_polygon)
    return walkable_floor(room, obstacles, *config.clearance_m)


def _front_heading(obj: SceneObject) -> float:
    axis = obj.box.rotation_matrix[:, 1]
    return math.atan2(axis[1], axis[0])


def _camera(
    rng: np.random.Generator,
    centre: np.ndarray,
    azimuth: float,
    radius: float,
    eye: float,
    config: OrbitConfig,
) -> np.ndarray:
    position = np.array(
        [centre[0] + radius * math.cos(azimuth), centre[1] + radius * math.sin(azimuth), eye]
    )
    to_object = centre - position
    yaw = math.atan2(to_object[1], to_object[0])
    pitch = math.atan2(to_object[2], math.hypot(to_object[0], to_object[1]))
    yaw += math.radians(rng.uniform(-config.look_jitter_deg, config.look_jitter_deg))
    pitch += math.radians(rng.uniform(-config.pitch_jitter_deg, config.pitch_jitter_deg))
    return look_pose(position, yaw, pitch, 0.0)


def _rounded(pose: np.ndarray) -> tuple:
    rows = tuple(tuple(round(float(v), 6) + 0.0 for v in row) for row in pose[:3])
    return (*rows, (0.0, 0.0, 0.0, 1.0))


def plan_orbit_pairs(
    scene: Scene,
    renderer: Renderer,
    rng: np.random.Generator,
    pairs: int,
    config: OrbitConfig | None = None,
    on_view: Callable[[Frame, RenderResult], None] | None = None,
) -> list[Frame]:
    """Up to ``pairs`` orbit pairs (two frames each, visibility filled in), rendered.

    ``on_view`` gets each kept frame with its render (to write the images). Fewer pairs
    come back when the room has no free floor around enough objects.
    """
    config = config or OrbitConfig()
    walkthrough = scene.walkthrough_frames
    if pairs < 1 or not walkthrough:
        return []
    free = _free_floor(scene, config)
    targets = [o for o in scene.objects if is_orbit_target(scene, o)]
    if free is None or not targets:
        return []
    intrinsics = walkthrough[0].intrinsics
    min_pixels = max(1, int(intrinsics.width * intrinsics.height * config.min_visible_fraction))
    next_index = max(f.index for f in scene.frames) + 1
    frames: list[Frame] = []
    order = list(rng.permutation(len(targets)))
    for attempt in range(pairs * config.tries):
        if len(frames) == 2 * pairs:
            break
        obj = targets[order[attempt % len(order)]]
        centre = np.asarray(obj.box.center, dtype=float)
        radius = float(rng.uniform(*config.radius_m))
        start = _front_heading(obj) + math.radians(rng.uniform(-config.start_deg, config.start_deg))
        turn = math.radians(rng.uniform(*config.angle_deg)) * float(rng.choice([-1.0, 1.0]))
        eye = float(rng.uniform(*config.eye_height_m))
        azimuths = (start, start + turn)
        spots = [
            (centre[0] + radius * math.cos(a), centre[1] + radius * math.sin(a)) for a in azimuths
        ]
        if not all(free.contains(Point(*spot)) for spot in spots):
            continue
        views = []
        for azimuth in azimuths:
            pose = _rounded(_camera(rng, centre, azimuth, radius, eye, config))
            index = next_index + len(frames) + len(views)
            image, instance, depth = frame_names(index)
            frame = Frame(
                index=index,
                kind="orbit",
                timestamp=0.0,
                intrinsics=intrinsics,
                camera_to_world=pose,  # type: ignore[arg-type]
                image_path=image,
                instance_path=instance,
                depth_path=depth,
            )
            result = renderer.render_frame(frame)
            if result.visible.get(obj.instance_id, 0) < min_pixels:
                break
            views.append(
                (
                    frame.model_copy(
                        update={
                            "visible": dict(sorted(result.visible.items())),
                            "boxes": dict(sorted(result.boxes.items())),
                        }
                    ),
                    result,
                )
            )
        if len(views) < 2:
            continue
        for frame, result in views:
            frames.append(frame)
            if on_view is not None:
                on_view(frame, result)
    return frames


def with_orbit_frames(scene: Scene, frames: list[Frame]) -> Scene:
    """The scene with orbit frames appended (validated again)."""
    if not frames:
        return scene
    data = scene.model_dump()
    data["frames"] = [*data["frames"], *(f.model_dump() for f in frames)]
    return Scene.model_validate(data)
