"""Procedural scenes end to end: room, furniture, walkthrough, rendered frames, files.

Everything is drawn from ``numpy.random.default_rng([seed, attempt])``; numbers written
to ``scene.json`` are rounded (6 decimals) and the frames are rendered from the rounded
record, so the same seed gives byte-identical files and any reader re-rendering the
saved scene gets the same pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from common.errors import UserError
from common.io import atomic_directory
from scenes.procedural.orbit import plan_orbit_pairs, with_orbit_frames
from scenes.procedural.placement import Layout, Placed
from scenes.procedural.programs import PROGRAMS
from scenes.procedural.rooms import make_room
from scenes.procedural.trajectory import CameraPath, plan_walkthrough
from scenes.render import Renderer, RenderResult, write_frame_images
from scenes.render.images import frame_names
from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject

GENERATOR = "ouroboros-procedural"
GENERATOR_VERSION = 1
ATTEMPTS = 8
"""Layouts tried per seed before giving up (a layout fails if no floor is left to walk)."""


@dataclass(frozen=True)
class GeneratedScene:
    """A generated scene and its rendered frames (frame i is ``scene.frames[i]``).

    ``instance`` holds renderer ids: objects > 0, room structure < 0 (see
    ``scenes.render.meshes``), 0 where nothing was hit; the PNG written to disk keeps
    objects only. ``depth`` is metres along the camera axis (0: nothing hit).
    """

    scene: Scene
    rgb: np.ndarray  # (N, H, W, 3) uint8
    instance: np.ndarray  # (N, H, W) int32
    depth: np.ndarray  # (N, H, W) float32


def _r(value: float) -> float:
    """Round for stable, readable JSON (and turn -0.0 into 0.0)."""
    return round(float(value), 6) + 0.0


def _box(placed: Placed) -> OrientedBox:
    c, s = math.cos(placed.yaw), math.sin(placed.yaw)
    rotation = ((_r(c), _r(-s), 0.0), (_r(s), _r(c), 0.0), (0.0, 0.0, 1.0))
    return OrientedBox(
        center=(_r(placed.center[0]), _r(placed.center[1]), _r(placed.center[2])),
        extents=(_r(placed.extents[0]), _r(placed.extents[1]), _r(placed.extents[2])),
        rotation=rotation,
    )


def _objects(layout: Layout) -> tuple[SceneObject, ...]:
    """Instance ids 1..n in placement order; supports refer to ids."""
    return tuple(
        SceneObject(
            instance_id=index + 1,
            category=placed.category,
            box=_box(placed),
            support=None if placed.support is None else placed.support + 1,
        )
        for index, placed in enumerate(layout.objects)
    )


def _frames(path: CameraPath, width: int, height: int) -> tuple[Frame, ...]:
    focal = _r(width / 2 / math.tan(math.radians(path.hfov_deg) / 2))
    intrinsics = CameraIntrinsics(
        width=width, height=height, fx=focal, fy=focal, cx=width / 2, cy=height / 2
    )
    frames = []
    for index, (pose, stamp) in enumerate(zip(path.poses, path.timestamps, strict=True)):
        rounded = (*(tuple(_r(v) for v in row) for row in pose[:3]), (0.0, 0.0, 0.0, 1.0))
        image, instance, depth = frame_names(index)
        frames.append(
            Frame(
                index=index,
                timestamp=round(float(stamp), 3) + 0.0,
                intrinsics=intrinsics,
                camera_to_world=rounded,  # type: ignore[arg-type]
                image_path=image,
                instance_path=instance,
                depth_path=depth,
            )
        )
    return tuple(frames)


def layout_scene(seed: int, frames: int = 32, width: int = 640, height: int = 480) -> Scene:
    """The scene record for ``seed`` with its camera path, before rendering (no visibility yet)."""
    if seed < 0:
        raise UserError(f"seed must be >= 0, got {seed}")
    if frames < 1 or width < 16 or height < 16:
        raise UserError(
            f"need frames >= 1 and a frame size of at least 16x16, got {frames} frames of {width}x{height}"
        )
    for attempt in range(ATTEMPTS):
        rng = np.random.default_rng([seed, attempt])
        plan = make_room(rng)
        layout = Layout(plan, rng)
        PROGRAMS[plan.room_type](layout)
        obstacles = [
            o.footprint
            for o in layout.objects
            if o.support is None and o.category not in ("door", "window")
        ]
        path = plan_walkthrough(rng, plan.polygon, obstacles, frames)
        if path is not None:
            break
    else:  # pragma: no cover - every seed tried in tests finds floor on its first attempts
        raise RuntimeError(f"seed {seed}: no walkable floor in {ATTEMPTS} layouts")
    room = Room(
        floor_polygon=tuple(plan.outline),
        height=plan.height,
        area=_r(plan.area),
        openings=tuple(plan.openings),
    )
    return Scene(
        id=f"proc_{seed:06d}",
        source="procedural",
        room=room,
        objects=_objects(layout),
        frames=_frames(path, width, height),
        provenance={
            "generator": GENERATOR,
            "generator_version": GENERATOR_VERSION,
            "seed": seed,
            "attempt": attempt,
            "room_type": plan.room_type,
            "room_shape": plan.shape,
        },
    )


def render_scene(
    scene: Scene, on_frame: Callable[[int], None] | None = None
) -> Iterator[RenderResult]:
    """Render every walkthrough frame of ``scene`` in order (one renderer, built once)."""
    with Renderer(scene) as renderer:
        for frame in scene.walkthrough_frames:
            result = renderer.render_frame(frame)
            if on_frame is not None:
                on_frame(frame.index)
            yield result


Visibility = tuple[dict[int, int], dict[int, tuple[int, int, int, int]]]


def _with_visibility(scene: Scene, seen: list[Visibility]) -> Scene:
    """The scene with each frame's pixel counts and 2D boxes from its render."""
    frames = tuple(
        frame.model_copy(
            update={"visible": dict(sorted(pixels.items())), "boxes": dict(sorted(boxes.items()))}
        )
        for frame, (pixels, boxes) in zip(scene.walkthrough_frames, seen, strict=True)
    )
    return Scene.model_validate({**scene.model_dump(), "frames": [f.model_dump() for f in frames]})


def _orbit_rng(seed: int) -> np.random.Generator:
    """Orbit views draw from their own stream, so adding them leaves the walkthrough as it was."""
    return np.random.default_rng([seed, 0x0B17])


def add_orbit_views(
    scene: Scene,
    seed: int,
    pairs: int,
    on_view: Callable[[Frame, RenderResult], None] | None = None,
) -> Scene:
    """``scene`` (walkthrough rendered) plus up to ``pairs`` rendered orbit pairs."""
    if pairs < 1:
        return scene
    with Renderer(scene) as renderer:
        frames = plan_orbit_pairs(scene, renderer, _orbit_rng(seed), pairs, on_view=on_view)
    return with_orbit_frames(scene, frames)


def generate_scene(
    seed: int,
    frames: int = 32,
    width: int = 640,
    height: int = 480,
    on_frame: Callable[[int], None] | None = None,
    orbit_pairs: int = 0,
) -> GeneratedScene:
    """Generate and render one scene in memory (orbit views after the walkthrough)."""
    scene = layout_scene(seed, frames, width, height)
    results = list(render_scene(scene, on_frame))
    scene = _with_visibility(scene, [(r.visible, r.boxes) for r in results])
    orbit: list[RenderResult] = []
    scene = add_orbit_views(scene, seed, orbit_pairs, lambda _, result: orbit.append(result))
    results += orbit
    return GeneratedScene(
        scene=scene,
        rgb=np.stack([r.rgb for r in results]),
        instance=np.stack([r.instance for r in results]),
        depth=np.stack([r.depth for r in results]),
    )


def write_scene(
    seed: int,
    target: Path,
    frames: int,
    width: int,
    height: int,
    on_frame: Callable[[int], None] | None = None,
    orbit_pairs: int = 0,
) -> Path:
    """Generate one scene straight to ``target`` (frames streamed to disk, folder swapped in atomically)."""
    scene = layout_scene(seed, frames, width, height)
    visible: list[Visibility] = []
    with atomic_directory(target) as tmp:
        for frame, result in zip(scene.frames, render_scene(scene, on_frame), strict=True):
            write_frame_images(tmp, frame.index, result.rgb, result.instance, result.depth)
            visible.append((result.visible, result.boxes))

        def write_view(frame: Frame, result: RenderResult) -> None:
            write_frame_images(tmp, frame.index, result.rgb, result.instance, result.depth)

        scene = add_orbit_views(_with_visibility(scene, visible), seed, orbit_pairs, write_view)
        scene.save(tmp)
    return target


def generate_scenes(
    num: int,
    seed: int,
    out: Path,
    frames: int = 32,
    width: int = 640,
    height: int = 480,
    progress: bool = True,
    orbit_pairs: int = 0,
) -> list[Path]:
    """Write scenes ``seed`` .. ``seed + num - 1`` to ``out/proc_{seed:06d}/`` (scene.json + frames/)."""
    if num < 1:
        raise UserError(f"--num must be at least 1, got {num}")
    out = Path(out)
    targets = [out / f"proc_{seed + i:06d}" for i in range(num)]
    existing = [t for t in targets if t.exists()]
    if existing:
        raise UserError(
            f"{existing[0]} already exists ({len(existing)} of the {num} scene folders do); "
            "choose another --out or --seed, or remove them"
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("rendering", total=num * frames)
        for target, scene_seed in zip(targets, range(seed, seed + num), strict=True):
            bar.update(task, description=f"rendering {target.name}")
            write_scene(
                scene_seed, target, frames, width, height, lambda _: bar.advance(task), orbit_pairs
            )
    return targets
