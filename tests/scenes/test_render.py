"""The ray-cast renderer: geometry of depth and ids, shading, meshes from boxes, PNG files."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from common.errors import UserError
from scenes.procedural.trajectory import look_pose
from scenes.render import (
    CEILING_ID,
    DOOR_ID,
    FLOOR_ID,
    WALL_ID,
    RenderConfig,
    Renderer,
    build_meshes,
    opening_box,
    read_depth_png,
    read_instance_png,
    write_frame_images,
)
from scenes.render.meshes import floor_outline, object_mesh
from scenes.render.raycast import instance_boxes
from scenes.render.shapes import SHAPES
from scenes.schema import CameraIntrinsics, Opening, OrientedBox, Room, Scene, SceneObject

SQUARE = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0))


def _intrinsics(width: int = 64, height: int = 48, hfov_deg: float = 60.0) -> CameraIntrinsics:
    focal = width / 2 / math.tan(math.radians(hfov_deg) / 2)
    return CameraIntrinsics(
        width=width, height=height, fx=focal, fy=focal, cx=width / 2, cy=height / 2
    )


def _scene(
    objects: tuple[SceneObject, ...] = (), openings: tuple[Opening, ...] = (), polygon=SQUARE
) -> Scene:
    room = Room(floor_polygon=polygon, height=3.0, area=16.0, openings=openings)
    return Scene(id="render_test", source="procedural", room=room, objects=objects)


def _yaw(deg: float) -> tuple:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


def _crate(
    instance_id: int, centre: tuple[float, float, float], extents=(0.6, 0.6, 0.6)
) -> SceneObject:
    """An unknown category: drawn as one plain box, so its faces are exactly the box's."""
    return SceneObject(
        instance_id=instance_id, category="crate", box=OrientedBox(center=centre, extents=extents)
    )


def test_depth_is_distance_along_the_camera_axis() -> None:
    camera = look_pose(np.array([1.0, 2.0, 1.5]), yaw=0.0, pitch=0.0, roll=0.0)
    with Renderer(_scene()) as renderer:
        result = renderer.render(_intrinsics(), camera)
    assert (result.instance == WALL_ID).all()  # the facing wall x = 4 fills a 60 degree view
    np.testing.assert_allclose(result.depth, 3.0, atol=1e-4)
    assert result.visible == {}


def test_object_ids_and_depth_follow_the_box() -> None:
    crate = _crate(7, (2.5, 2.0, 1.5))
    camera = look_pose(np.array([1.0, 2.0, 1.5]), yaw=0.0, pitch=0.0, roll=0.0)
    intrinsics = _intrinsics()
    with Renderer(_scene((crate,))) as renderer:
        result = renderer.render(intrinsics, camera)
    mask = result.instance == 7
    assert mask[24, 32] and result.depth[24, 32] == pytest.approx(2.5 - 0.3 - 1.0, abs=1e-4)
    # every crate pixel lies inside the projection of the crate's corners
    world_to_camera = np.linalg.inv(camera)
    local = crate.box.corners() @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    u = intrinsics.fx * local[:, 0] / local[:, 2] + intrinsics.cx
    v = intrinsics.fy * local[:, 1] / local[:, 2] + intrinsics.cy
    rows, cols = np.nonzero(mask)
    assert cols.min() >= math.floor(u.min()) and cols.max() <= math.ceil(u.max())
    assert rows.min() >= math.floor(v.min()) and rows.max() <= math.ceil(v.max())
    # and the crate covers roughly the area of its front face's projection
    front = (u.max() - u.min()) * (v.max() - v.min())
    assert 0.6 * front < mask.sum() <= front * 1.05


def test_visible_counts_are_the_instance_image_histogram() -> None:
    objects = (
        _crate(3, (2.5, 1.4, 0.3)),
        _crate(9, (3.2, 2.6, 0.3)),
        _crate(12, (2.2, 2.7, 0.15), (0.3, 0.3, 0.3)),
    )
    camera = look_pose(np.array([0.6, 2.0, 1.6]), yaw=0.0, pitch=-0.35, roll=0.05)
    with Renderer(_scene(objects)) as renderer:
        result = renderer.render(_intrinsics(96, 72), camera)
    ids, counts = np.unique(result.instance[result.instance > 0], return_counts=True)
    assert result.visible == dict(zip(ids.tolist(), counts.tolist(), strict=True))
    assert set(result.visible) == {3, 9, 12}
    assert {FLOOR_ID, WALL_ID} <= set(np.unique(result.instance).tolist())
    assert set(result.boxes) == set(result.visible)
    for instance_id, box in result.boxes.items():
        ys, xs = np.nonzero(result.instance == instance_id)
        assert box == (xs.min(), ys.min(), xs.max(), ys.max())


def test_instance_boxes_match_brute_force_on_random_images() -> None:
    rng = np.random.default_rng(4)
    for _ in range(20):
        image = rng.integers(-2, 6, size=(int(rng.integers(1, 30)), int(rng.integers(1, 30))))
        image[rng.random(image.shape) < 0.5] = 0
        expected = {}
        for instance_id in np.unique(image[image > 0]).tolist():
            ys, xs = np.nonzero(image == instance_id)
            expected[instance_id] = (xs.min(), ys.min(), xs.max(), ys.max())
        assert instance_boxes(image) == expected


def test_generated_frames_record_boxes_and_old_files_still_load() -> None:
    from scenes.procedural import generate_scene
    from tools.geometry import SceneView

    scene = generate_scene(2, frames=6, width=64, height=48).scene
    assert all(set(f.boxes or {}) == set(f.visible) for f in scene.frames)
    legacy = Scene.model_validate_json(
        scene.model_copy(
            update={"frames": tuple(f.model_copy(update={"boxes": None}) for f in scene.frames)}
        ).to_json()
    )
    assert all(f.boxes is None for f in legacy.frames)
    assert not any(SceneView(legacy).frames[0].is_cut(i) for i in legacy.frames[0].visible)
    with pytest.raises(ValueError, match="not inside"):
        scene.frames[0].model_validate(
            {**scene.frames[0].model_dump(), "boxes": {1: (0, 0, 64, 10)}}
        )


def test_lambert_shading_of_a_front_face_and_of_its_back() -> None:
    quad = trimesh.Trimesh(
        vertices=[[-5, -5, 0], [5, -5, 0], [5, 5, 0], [-5, 5, 0]],
        faces=[[0, 1, 2], [0, 2, 3]],
        face_colors=np.tile([200, 100, 50, 255], (2, 1)),
        process=False,
    )
    config = RenderConfig(key_direction=(0.0, 0.0, 1.0), fill_direction=(1.0, 0.0, 0.0))
    colour = np.array([200, 100, 50]) / 255
    with Renderer(meshes=[(1, quad)], config=config) as renderer:
        above = renderer.render(
            _intrinsics(8, 6), look_pose(np.array([0.0, 0, 2]), 0.0, -math.pi / 2 + 0.01, 0.0)
        )
        below = renderer.render(
            _intrinsics(8, 6), look_pose(np.array([0.0, 0, -2]), 0.0, math.pi / 2 - 0.01, 0.0)
        )
    lit = np.rint(colour * (config.ambient + config.key_strength) * 255)
    unlit = np.rint(colour * config.ambient * 255)
    assert np.abs(above.rgb.reshape(-1, 3) - lit).max() <= 1
    assert np.abs(below.rgb.reshape(-1, 3) - unlit).max() <= 1


def test_rendering_does_not_depend_on_the_thread_count() -> None:
    objects = (
        _crate(1, (2.5, 1.5, 0.3)),
        SceneObject(
            instance_id=2,
            category="sofa",
            box=OrientedBox(center=(3.0, 3.0, 0.4), extents=(1.8, 0.9, 0.8), rotation=_yaw(200)),
        ),
    )
    scene = _scene(objects)
    camera = look_pose(np.array([0.7, 0.8, 1.5]), yaw=0.6, pitch=-0.3, roll=0.0)
    single = Renderer(scene, config=RenderConfig(threads=1, chunks_per_thread=1)).render(
        _intrinsics(), camera
    )
    with Renderer(scene, config=RenderConfig(threads=2, chunks_per_thread=3)) as renderer:
        many = renderer.render(_intrinsics(), camera)
    for field in ("rgb", "instance", "depth"):
        np.testing.assert_array_equal(getattr(single, field), getattr(many, field))
    assert single.visible == many.visible


def test_numpy_fallback_agrees_with_embree() -> None:
    scene = _scene(
        (
            _crate(4, (2.5, 2.0, 0.5)),
            SceneObject(
                instance_id=5,
                category="chair",
                box=OrientedBox(center=(3.2, 1.0, 0.45), extents=(0.5, 0.5, 0.9)),
            ),
        )
    )
    camera = look_pose(np.array([0.8, 2.2, 1.5]), yaw=-0.2, pitch=-0.4, roll=0.0)
    intrinsics = _intrinsics(32, 24)
    fast = Renderer(scene).render(intrinsics, camera)
    slow = Renderer(scene, config=replace(RenderConfig(), use_embree=False, threads=1)).render(
        intrinsics, camera
    )
    assert (fast.instance == slow.instance).mean() > 0.98
    same = fast.instance == slow.instance
    np.testing.assert_allclose(fast.depth[same], slow.depth[same], atol=1e-3)


@pytest.mark.parametrize("category", [*sorted(SHAPES), "unknown thing"])
def test_object_meshes_fill_exactly_their_box(category: str) -> None:
    box = OrientedBox(center=(1.0, -2.0, 0.7), extents=(0.9, 0.5, 1.4), rotation=_yaw(37))
    mesh = object_mesh(category, box, instance_id=3)
    local = (np.asarray(mesh.vertices) - box.center) @ box.rotation_matrix
    half = np.asarray(box.extents) / 2
    np.testing.assert_allclose(local.min(axis=0), -half, atol=1e-9)
    np.testing.assert_allclose(local.max(axis=0), half, atol=1e-9)
    assert len(mesh.visual.face_colors) == len(mesh.faces)


def test_boxes_only_scene_without_outline_still_renders() -> None:
    objects = (
        _crate(1, (10.0, 10.0, 0.3)),
        SceneObject(
            instance_id=2,
            category="table",
            box=OrientedBox(center=(11.5, 10.0, 0.4), extents=(1.2, 0.8, 0.8)),
        ),
    )
    scene = Scene(
        id="meta_only",
        source="vsibench-meta",
        room=Room(floor_polygon=(), height=2.8, area=20.0),
        objects=objects,
    )
    outline = np.asarray(floor_outline(scene))
    assert outline[:, 0].min() < 9.7 and outline[:, 0].max() > 12.1
    ids = {instance_id for instance_id, _ in build_meshes(scene)}
    assert ids == {FLOOR_ID, CEILING_ID, WALL_ID, 1, 2}
    camera = look_pose(np.array([outline[:, 0].min() + 0.1, 10.0, 1.5]), 0.0, -0.4, 0.0)
    with Renderer(scene) as renderer:
        assert set(renderer.render(_intrinsics(), camera).visible) == {1, 2}


def test_openings_are_drawn_once() -> None:
    door = Opening(kind="door", wall=0, offset=2.0, width=0.9, height=2.0)
    bare = _scene(openings=(door,))
    assert DOOR_ID in {i for i, _ in build_meshes(bare)}
    box = opening_box(bare.room, floor_outline(bare), door)
    with_object = _scene((SceneObject(instance_id=1, category="door", box=box),), openings=(door,))
    assert DOOR_ID not in {i for i, _ in build_meshes(with_object)}
    camera = look_pose(np.array([2.0, 2.0, 1.2]), -math.pi / 2, 0.0, 0.0)
    with Renderer(with_object) as renderer:
        assert renderer.render(_intrinsics(), camera).visible.get(1, 0) > 200


def test_frame_pngs_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    instance = rng.integers(-5, 3000, (12, 16)).astype(np.int32)
    depth = rng.uniform(0, 70, (12, 16)).astype(np.float32)
    names = write_frame_images(tmp_path, 3, rgb, instance, depth)
    assert names == ("frames/0003.png", "frames/0003_inst.png", "frames/0003_depth.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / names[0])), rgb)
    with Image.open(tmp_path / names[1]) as image:
        assert image.mode.startswith("I;16")
    np.testing.assert_array_equal(
        read_instance_png(tmp_path / names[1]), np.where(instance > 0, instance, 0)
    )
    expected_mm = np.clip(np.rint(depth * 1000), 0, 65535) / 1000
    np.testing.assert_allclose(read_depth_png(tmp_path / names[2]), expected_mm, atol=1e-6)


def test_instance_ids_beyond_sixteen_bits_are_refused(tmp_path: Path) -> None:
    instance = np.full((2, 2), 70000, dtype=np.int32)
    with pytest.raises(UserError, match="16-bit"):
        write_frame_images(
            tmp_path, 0, np.zeros((2, 2, 3), np.uint8), instance, np.zeros((2, 2), np.float32)
        )


def test_rays_that_hit_nothing_get_the_background() -> None:
    quad = trimesh.Trimesh(
        vertices=[[-0.2, -0.2, 0], [0.2, -0.2, 0], [0.2, 0.2, 0], [-0.2, 0.2, 0]],
        faces=[[0, 1, 2], [0, 2, 3]],
        face_colors=np.tile([200, 200, 200, 255], (2, 1)),
        process=False,
    )
    config = RenderConfig(background=(10, 20, 30))
    with Renderer(meshes=[(4, quad)], config=config) as renderer:
        result = renderer.render(
            _intrinsics(32, 24), look_pose(np.array([0.0, 0, 2]), 0.0, -math.pi / 2 + 0.01, 0.0)
        )
    miss = result.instance == 0
    assert miss.any() and (result.instance[~miss] == 4).all()
    assert (result.rgb[miss] == (10, 20, 30)).all() and (result.depth[miss] == 0).all()
    assert result.depth[~miss] == pytest.approx(2.0, abs=0.01)
    assert result.visible == {4: int((~miss).sum())}
