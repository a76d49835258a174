"""Box distances and sizes against closed-form, convex-QP and dense-sampling references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import lsq_linear
from scipy.spatial.distance import cdist
from scipy.spatial.transform import Rotation

from tools.geometry import (
    Object3D,
    SceneView,
    box_distance,
    boxes_intersect,
    center_distance,
    closest_distance,
    object_size,
    point_box_distance,
)


def make_box(center, extents, rotation=None, instance_id: int = 1) -> Object3D:
    rotation = np.eye(3) if rotation is None else np.asarray(rotation, dtype=float)
    return Object3D(
        instance_id, "box", np.asarray(center, float), np.asarray(extents, float), rotation
    )


def qp_distance(a: Object3D, b: Object3D) -> float:
    """Reference: min ||(ca + Ra u) - (cb + Rb v)|| over the boxes' local coordinates, a
    bounded least-squares problem solved exactly by BVLS (an independent method)."""
    matrix = np.hstack([a.rotation, -b.rotation])
    half = np.concatenate([a.extents, b.extents]) / 2.0 + 1e-12  # bounds must be strict
    result = lsq_linear(matrix, b.center - a.center, bounds=(-half, half), method="bvls", tol=1e-14)
    return float(np.linalg.norm(matrix @ result.x - (b.center - a.center)))


def sampled_distance(a: Object3D, b: Object3D, spacing: float) -> float:
    """Reference: VSI-Bench-style dense sampling of both box surfaces (an upper bound)."""

    def surface_points(box: Object3D) -> np.ndarray:
        axes = [
            np.linspace(-e / 2, e / 2, max(int(np.ceil(e / spacing)), 1) + 1) for e in box.extents
        ]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        on_surface = np.any(np.isclose(np.abs(grid), box.extents / 2), axis=1)
        return box.center + grid[on_surface] @ box.rotation.T

    return float(cdist(surface_points(a), surface_points(b)).min())


def random_pair(rng: np.random.Generator) -> tuple[Object3D, Object3D]:
    boxes = []
    for instance_id in (1, 2):
        rotation = Rotation.from_rotvec(rng.normal(size=3)).as_matrix()
        boxes.append(
            make_box(rng.uniform(-2, 2, 3), rng.uniform(0.05, 2.0, 3), rotation, instance_id)
        )
    return boxes[0], boxes[1]


def test_axis_aligned_closed_form() -> None:
    unit = make_box((0, 0, 0), (1, 1, 1))
    assert box_distance(unit, make_box((3, 0, 0), (1, 1, 1))) == pytest.approx(2.0, abs=1e-12)
    # Diagonal gap: 1 m in x, 2 m in y, 0.5 m in z.
    assert box_distance(unit, make_box((2, 3, 1.5), (1, 1, 1))) == pytest.approx(
        np.sqrt(1 + 4 + 0.25), abs=1e-12
    )
    # Edge against edge: a box turned 45 degrees about z, its edge facing the unit box's face.
    turned = make_box(
        (2.0, 0.0, 0.0), (1, 1, 1), Rotation.from_euler("z", 45, degrees=True).as_matrix()
    )
    assert box_distance(unit, turned) == pytest.approx(1.5 - np.sqrt(0.5), abs=1e-12)
    # Touching faces and overlap, containment.
    assert box_distance(unit, make_box((1.0, 0.2, 0.1), (1, 1, 1))) == 0.0
    assert box_distance(unit, make_box((0.1, 0.1, 0.1), (0.2, 0.2, 0.2))) == 0.0


def test_rod_through_face_is_intersection_not_edge_distance() -> None:
    """A thin rod piercing a slab has no vertex inside and far-apart edges: SAT must catch it."""
    slab = make_box((0, 0, 0), (4, 4, 0.1))
    rod = make_box((0, 0, 0), (0.05, 0.05, 3))
    assert boxes_intersect(slab, rod)
    assert box_distance(slab, rod) == 0.0


def test_random_configurations_match_convex_qp_to_micrometres() -> None:
    rng = np.random.default_rng(7)
    worst = 0.0
    separated = 0
    for _ in range(1500):
        a, b = random_pair(rng)
        exact, reference = box_distance(a, b), qp_distance(a, b)
        worst = max(worst, abs(exact - reference))
        separated += exact > 0
    assert worst < 1e-6  # far inside the required 1 mm
    assert 200 < separated < 1500  # both regimes exercised


def test_random_configurations_against_dense_sampling() -> None:
    rng = np.random.default_rng(11)
    spacing = 0.08
    for _ in range(30):
        a, b = random_pair(rng)
        exact, sampled = box_distance(a, b), sampled_distance(a, b, spacing)
        # Sampling can only overestimate, by at most the diagonal of two sampling cells.
        assert exact <= sampled + 1e-9
        assert sampled - exact <= 2 * spacing * np.sqrt(3) / 2 + 1e-9


def test_flat_boxes_and_points() -> None:
    window = make_box((0, 0, 1.5), (1.0, 0.0, 1.0))  # zero thickness
    picture = make_box(
        (0, 0.4, 1.5), (0.5, 0.0, 0.5), Rotation.from_euler("x", 90, degrees=True).as_matrix()
    )
    assert box_distance(window, picture) == pytest.approx(qp_distance(window, picture), abs=1e-9)
    unit = make_box((0, 0, 0), (1, 1, 1))
    assert point_box_distance((0.2, 0.1, -0.3), unit) == 0.0
    assert point_box_distance((1.5, 0.5, 0.5), unit) == pytest.approx(1.0)
    assert point_box_distance((1.5, 1.5, 0.0), unit) == pytest.approx(np.sqrt(2))


def test_closest_distance_over_instances_and_size() -> None:
    chairs = [make_box((x, 0, 0), (1, 1, 1), instance_id=i) for i, x in ((1, 0.0), (2, 10.0))]
    table = make_box((7.0, 0, 0), (1, 1, 1), instance_id=3)
    assert closest_distance(chairs, [table]) == pytest.approx(2.0)
    assert closest_distance(chairs, chairs) == pytest.approx(9.0)  # never pairs a box with itself
    with pytest.raises(ValueError):
        closest_distance(chairs[:1], chairs[:1])
    assert center_distance(chairs[0], table) == pytest.approx(7.0)
    assert object_size(make_box((0, 0, 0), (0.4, 1.7, 0.9))) == pytest.approx(1.7)


def test_real_rooms_distances_and_sizes(vsibench_raw, vsibench_scene_dicts) -> None:
    """All 88 rooms: sizes are the published longest axis, centre distances the published
    centroids' distance, and box distances match the convex-QP reference."""
    worst = 0.0
    pairs = 0
    for name, raw in vsibench_raw.items():
        view = SceneView(vsibench_scene_dicts[name])
        published = [(c, box) for c, boxes in raw["object_bbox"].items() for box in boxes]
        for obj, (category, box) in zip(view.objects, published, strict=True):
            assert obj.category == category
            assert object_size(obj) == pytest.approx(max(box["axesLengths"]), abs=1e-12)
        for (a, (_, box_a)), (b, (_, box_b)) in itertools.combinations(
            list(zip(view.objects, published, strict=True))[:8], 2
        ):
            expected = float(np.linalg.norm(np.subtract(box_a["centroid"], box_b["centroid"])))
            assert center_distance(a, b) == pytest.approx(expected, abs=1e-12)
            worst = max(worst, abs(box_distance(a, b) - qp_distance(a, b)))
            pairs += 1
    assert pairs > 1500
    assert worst < 1e-6
