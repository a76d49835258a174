"""First appearance of objects and categories from per-frame pixel counts."""

from __future__ import annotations

import numpy as np
import pytest

from tools.geometry import (
    Ambiguous,
    SceneView,
    appearance_order,
    appearance_threshold,
    category_first_appearance,
    first_appearance,
    first_appearances,
)

OBJECTS = [
    (1, "chair", (1, 1, 0.4), (0.5, 0.5, 0.8)),
    (2, "chair", (4, 1, 0.4), (0.5, 0.5, 0.8)),
    (3, "table", (3, 3, 0.4), (1.2, 0.8, 0.8)),
    (4, "lamp", (5, 3, 0.8), (0.3, 0.3, 1.6)),
    (5, "tv", (0.2, 2, 1.2), (0.1, 1.0, 0.6)),
]


@pytest.fixture
def view(make_scene_dict, make_frame_dict) -> SceneView:
    # 640x480 frames: default threshold is 0.1 % = 307 pixels.
    visibility = [
        {2: 50},  # chair 2 only a sliver
        {2: 400, 3: 20},
        {3: 1000},
        {},
        {1: 5000, 4: 1200},
        {5: 306},  # just under the default threshold
        {5: 307},
    ]
    frames = [
        make_frame_dict(i, (0, 0, 1.5), visible=v, timestamp=2.0 * i)
        for i, v in enumerate(visibility)
    ]
    return SceneView(make_scene_dict(objects=OBJECTS, frames=frames))


def test_default_threshold_is_a_fraction_of_the_image(view: SceneView) -> None:
    assert appearance_threshold(view.frame(0)) == 307
    assert appearance_threshold(view.frame(0), min_pixels=0) == 1
    assert first_appearance(view, 2) == 1
    assert first_appearance(view, 2, min_pixels=1) == 0
    assert first_appearance(view, view.object(5)) == 6
    assert first_appearance(view, 5, min_pixels=1) == 5


def test_first_appearances_agree_with_per_object_scan(view: SceneView) -> None:
    for min_pixels in (None, 1, 100, 1000):
        table = first_appearances(view, min_pixels)
        for obj in view.objects:
            assert table.get(obj.instance_id) == first_appearance(view, obj, min_pixels)


def test_category_order_and_ambiguity(view: SceneView) -> None:
    assert category_first_appearance(view, "chair") == 1
    assert category_first_appearance(view, "sofa") is None
    assert appearance_order(view, ["tv", "lamp", "table", "chair"]) == [
        "chair",
        "table",
        "lamp",
        "tv",
    ]
    # 2 s between frames: a 3 s gap requirement makes chair/table too close to call.
    with pytest.raises(Ambiguous, match=r"2\.00 s apart"):
        appearance_order(view, ["chair", "table"], min_gap_s=3.0)
    # Same first frame (chair 1 and lamp both at frame 4 once chair 2 is filtered out).
    with pytest.raises(Ambiguous, match=r"0\.00 s apart"):
        appearance_order(view, ["lamp", "chair"], min_pixels=1000)
    with pytest.raises(Ambiguous, match="never appears"):
        appearance_order(view, ["chair", "sofa"])


def test_random_visibility_matches_brute_force(make_scene_dict, make_frame_dict) -> None:
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 2000, size=(40, 5)) * (rng.random((40, 5)) < 0.15)
    frames = [
        make_frame_dict(i, (0, 0, 1.5), visible={j + 1: int(n) for j, n in enumerate(row) if n})
        for i, row in enumerate(counts)
    ]
    view = SceneView(make_scene_dict(objects=OBJECTS, frames=frames))
    for threshold in (1, 307, 1500):
        for j in range(5):
            hits = np.nonzero(counts[:, j] >= threshold)[0]
            assert first_appearance(view, j + 1, threshold) == (int(hits[0]) if len(hits) else None)
