"""Room floor area and outline."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from tools.geometry import SceneView, floor_area, floor_outline, floor_z, polygon_area


def test_shoelace_closed_forms_and_random_polygons() -> None:
    assert polygon_area([(0, 0), (4, 0), (4, 3), (0, 3)]) == pytest.approx(12.0)
    assert polygon_area([(0, 3), (4, 3), (4, 0), (0, 0)]) == pytest.approx(12.0)  # clockwise too
    l_shape = [(0, 0), (5, 0), (5, 2), (2, 2), (2, 4), (0, 4)]
    assert polygon_area(l_shape) == pytest.approx(10.0 + 4.0)
    assert polygon_area([(0, 0), (1, 1)]) == 0.0
    rng = np.random.default_rng(3)
    for _ in range(50):  # star-shaped random polygons: simple by construction
        angles = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 12)))
        radii = rng.uniform(0.5, 5.0, len(angles))
        points = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1) + rng.uniform(
            -9, 9, 2
        )
        assert polygon_area(points) == pytest.approx(Polygon(points).area, rel=1e-12)


def test_floor_area_prefers_polygon_for_procedural(make_scene_dict) -> None:
    polygon = [(0, 0), (5, 0), (5, 2), (2, 2), (2, 4), (0, 4)]
    view = SceneView(make_scene_dict(floor_polygon=polygon, area=99.0))
    assert floor_area(view) == pytest.approx(14.0)
    published = SceneView(make_scene_dict(floor_polygon=polygon, area=13.2, source="vsibench-meta"))
    assert floor_area(published) == pytest.approx(13.2)
    no_polygon = SceneView(
        make_scene_dict(floor_polygon=[], area=17.5, objects=[(1, "bed", (1, 1, 0.3), (2, 1, 0.6))])
    )
    assert floor_area(no_polygon) == pytest.approx(17.5)


def test_real_rooms_area_is_published_room_size(vsibench_raw, vsibench_scene_dicts) -> None:
    for name, raw in vsibench_raw.items():
        view = SceneView(vsibench_scene_dicts[name])
        assert floor_area(view) == raw["room_size"]
        outline = floor_outline(view)  # hull fallback contains every footprint
        for obj in view.objects:
            assert outline.contains(obj.footprint_shape)
        assert floor_z(view) == pytest.approx(
            min(box["min"][2] for boxes in raw["object_bbox"].values() for box in boxes)
        )


def test_outline_uses_polygon_when_present(make_scene_dict) -> None:
    view = SceneView(make_scene_dict(objects=[(1, "bed", (1, 1, 0.3), (2, 1, 0.6))]))
    assert floor_outline(view).area == pytest.approx(24.0)
    assert floor_z(view) == 0.0
