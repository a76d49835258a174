"""The procedural generator: rooms, furniture placement and the camera walk."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from scenes.procedural import furniture_categories, layout_scene
from scenes.procedural.catalog import SUPPORT_CATEGORIES
from scenes.schema import OrientedBox, Scene

SEEDS = range(40)
WALL_HUGGERS = {
    "bed",
    "wardrobe",
    "bookshelf",
    "refrigerator",
    "sofa",
    "tv stand",
    "counter",
    "cabinet",
    "desk",
    "toilet",
    "sink",
    "bathtub",
}
ALWAYS_SUPPORTED = {
    "monitor",
    "keyboard",
    "laptop",
    "tv",
    "pillow",
    "microwave",
    "printer",
    "clock",
}


@pytest.fixture(scope="module")
def scenes() -> list[Scene]:
    """Layouts only (no rendering): cheap enough to check many seeds."""
    return [layout_scene(seed, frames=32, width=64, height=48) for seed in SEEDS]


def _polygon(scene: Scene) -> Polygon:
    return Polygon(scene.room.floor_polygon)


def _footprint(box: OrientedBox) -> Polygon:
    corners = box.corners()[[0, 2, 6, 4], :2]
    return Polygon(corners)


def _boxes_overlap(a: OrientedBox, b: OrientedBox, tolerance: float = 1e-5) -> bool:
    """Separating-axis test for two oriented boxes (15 axes); touching counts as apart."""
    (alo, ahi), (blo, bhi) = a.axis_aligned_bounds(), b.axis_aligned_bounds()
    if np.any(ahi - tolerance <= blo) or np.any(bhi - tolerance <= alo):
        return False  # their axis-aligned bounds are already apart
    ra, rb = a.rotation_matrix, b.rotation_matrix
    ha, hb = np.asarray(a.extents) / 2, np.asarray(b.extents) / 2
    offset = np.asarray(b.center) - np.asarray(a.center)
    axes = [ra[:, i] for i in range(3)] + [rb[:, i] for i in range(3)]
    axes += [np.cross(ra[:, i], rb[:, j]) for i in range(3) for j in range(3)]
    for axis in axes:
        norm = np.linalg.norm(axis)
        if norm < 1e-9:
            continue
        axis = axis / norm
        reach_a = np.sum(ha * np.abs(ra.T @ axis))
        reach_b = np.sum(hb * np.abs(rb.T @ axis))
        if abs(offset @ axis) >= reach_a + reach_b - tolerance:
            return False
    return True


def test_separating_axis_helper_detects_overlap_and_separation() -> None:
    a = OrientedBox(center=(0, 0, 0.5), extents=(1, 1, 1))
    assert _boxes_overlap(a, OrientedBox(center=(0.9, 0, 0.5), extents=(1, 1, 1)))
    assert not _boxes_overlap(a, OrientedBox(center=(1.0, 0, 0.5), extents=(1, 1, 1)))  # touching
    c, s = math.cos(math.pi / 4), math.sin(math.pi / 4)
    turned = ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))
    assert not _boxes_overlap(
        a, OrientedBox(center=(1.25, 1.25, 0.5), extents=(1, 1, 1), rotation=turned)
    )
    assert _boxes_overlap(a, OrientedBox(center=(1.1, 0, 0.5), extents=(1, 1, 1), rotation=turned))


def test_rooms_vary_in_size_shape_and_type(scenes: list[Scene]) -> None:
    areas = [s.room.area for s in scenes]
    assert all(8.0 <= a <= 60.0 for a in areas)
    assert max(areas) - min(areas) > 25
    shapes = Counter(s.provenance["room_shape"] for s in scenes)
    assert shapes["rectangle"] > 0 and shapes["l-shape"] > 0
    assert len({s.provenance["room_type"] for s in scenes}) >= 6
    for scene in scenes:
        polygon = _polygon(scene)
        assert polygon.is_valid and polygon.exterior.is_ccw
        assert scene.room.area == pytest.approx(polygon.area, abs=1e-4)
        assert len(scene.room.floor_polygon) == (
            6 if scene.provenance["room_shape"] == "l-shape" else 4
        )
        assert 2.4 <= scene.room.height <= 3.0


def test_doors_and_windows_sit_in_their_walls_and_are_objects(scenes: list[Scene]) -> None:
    for scene in scenes:
        outline = scene.room.floor_polygon
        kinds = Counter(o.kind for o in scene.room.openings)
        assert kinds["door"] >= 1
        for opening in scene.room.openings:
            start, end = (
                np.asarray(outline[opening.wall]),
                np.asarray(outline[(opening.wall + 1) % len(outline)]),
            )
            length = float(np.linalg.norm(end - start))
            assert opening.width / 2 <= opening.offset <= length - opening.width / 2
            assert opening.sill + opening.height < scene.room.height
        objects = Counter(o.category for o in scene.objects if o.category in ("door", "window"))
        assert objects == Counter({k: v for k, v in kinds.items()})


def test_catalogue_has_twenty_categories_and_scenes_use_them(scenes: list[Scene]) -> None:
    catalogue = set(furniture_categories())
    required = {
        "chair",
        "table",
        "desk",
        "sofa",
        "bed",
        "nightstand",
        "lamp",
        "tv",
        "monitor",
        "cabinet",
        "bookshelf",
        "wardrobe",
        "plant",
        "toilet",
        "sink",
        "bathtub",
        "refrigerator",
        "stool",
        "trash bin",
        "pillow",
    }
    assert required <= catalogue and len(catalogue) >= 20
    used = {o.category for s in scenes for o in s.objects} - {"door", "window"}
    assert len(used) >= 20, sorted(used)


def test_objects_stay_inside_the_room(scenes: list[Scene]) -> None:
    for scene in scenes:
        room = _polygon(scene).buffer(1e-6)
        for obj in scene.objects:
            corners = obj.box.corners()
            assert all(room.contains(Point(x, y)) for x, y in corners[:, :2]), (
                scene.id,
                obj.category,
            )
            assert corners[:, 2].min() >= -1e-6 and corners[:, 2].max() <= scene.room.height


def test_no_two_objects_interpenetrate(scenes: list[Scene]) -> None:
    for scene in scenes:
        for a, b in itertools.combinations(scene.objects, 2):
            assert not _boxes_overlap(a.box, b.box), (
                scene.id,
                a.instance_id,
                a.category,
                b.instance_id,
                b.category,
            )


def test_rotations_are_yaw_only(scenes: list[Scene]) -> None:
    for obj in (o for s in scenes for o in s.objects):
        rotation = obj.box.rotation_matrix
        assert np.allclose(rotation[:, 2], [0, 0, 1]) and np.allclose(rotation[2], [0, 0, 1])


def test_objects_rest_on_the_floor_or_on_their_support(scenes: list[Scene]) -> None:
    supported = 0
    for scene in scenes:
        for obj in scene.objects:
            bottom = obj.box.center[2] - obj.box.extents[2] / 2
            if obj.category in ALWAYS_SUPPORTED:
                assert obj.support is not None, (scene.id, obj.category)
            if obj.support is None:
                assert obj.category == "window" or bottom == pytest.approx(0.0, abs=1e-6)
                continue
            supported += 1
            host = scene.object(obj.support)
            assert host.category in SUPPORT_CATEGORIES
            top = host.box.center[2] + host.box.extents[2] / 2
            assert bottom == pytest.approx(top, abs=1e-5)
            assert _footprint(host.box).buffer(1e-6).contains(_footprint(obj.box))
    assert supported >= 20


def test_large_furniture_stands_against_a_wall_facing_the_room(scenes: list[Scene]) -> None:
    checked = 0
    for scene in scenes:
        room = _polygon(scene)
        for obj in (o for o in scene.objects if o.category in WALL_HUGGERS and o.support is None):
            centre, depth = np.asarray(obj.box.center[:2]), obj.box.extents[1]
            front = obj.box.rotation_matrix[:2, 1]
            back_mid = centre - front * depth / 2
            assert room.exterior.distance(Point(*back_mid)) < 0.05, (scene.id, obj.category)
            assert room.contains(Point(*(centre + front * (depth / 2 + 0.1))))
            checked += 1
    assert checked >= 40


def test_counting_has_multiples(scenes: list[Scene]) -> None:
    counts = [Counter(o.category for o in s.objects) for s in scenes]
    assert max(c["chair"] for c in counts) >= 4
    assert sum(c["chair"] >= 2 for c in counts) >= 10
    for category in ("plant", "trash bin", "pillow", "window"):
        assert any(c[category] >= 2 for c in counts), category


def test_camera_walks_smoothly_through_free_floor(scenes: list[Scene]) -> None:
    for scene in scenes:
        room = _polygon(scene)
        furniture = [
            _footprint(o.box)
            for o in scene.objects
            if o.support is None and o.category not in ("door", "window")
        ]
        positions = np.array([f.position for f in scene.frames])
        for x, y, z in positions:
            assert room.exterior.distance(Point(x, y)) >= 0.2 and room.contains(Point(x, y))
            assert not any(f.contains(Point(x, y)) for f in furniture)
            assert 1.35 <= z <= 1.75
        steps = np.linalg.norm(np.diff(positions[:, :2], axis=0), axis=1)
        assert steps.max() < 1.0  # 32 frames of a walk (up to ~30 m in big rooms): no jumps
        yaw = np.unwrap([math.atan2(f.forward[1], f.forward[0]) for f in scene.frames])
        assert np.abs(np.diff(yaw)).max() < math.radians(50)
        assert abs(yaw[-1] - yaw[0]) > math.radians(120)  # it looks around
        stamps = [f.timestamp for f in scene.frames]
        assert stamps[0] == 0 and all(b > a for a, b in itertools.pairwise(stamps))
        for frame in scene.frames:
            pose = frame.pose[:3, :3]
            assert np.allclose(pose.T @ pose, np.eye(3), atol=1e-5)
            assert frame.pose[2, 1] < 0  # image down points down in the world
            hfov = math.degrees(2 * math.atan(frame.intrinsics.width / 2 / frame.intrinsics.fx))
            assert 60 <= hfov <= 70


def test_walk_is_long_enough_to_show_the_room(scenes: list[Scene]) -> None:
    lengths = []
    for scene in scenes:
        positions = np.array([f.position[:2] for f in scene.frames])
        lengths.append(np.linalg.norm(np.diff(positions, axis=0), axis=1).sum())
    assert np.median(lengths) > 2.0
