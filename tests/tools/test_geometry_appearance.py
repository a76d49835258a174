"""First appearance of objects and categories: clearly visible by default, pixels on request."""

from __future__ import annotations

import numpy as np
import pytest

from tools.geometry import (
    Ambiguous,
    SceneView,
    appearance_order,
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
    # 640x480 frames: clearly visible is 0.3 % = 922 pixels, 2 % = 6144 when cut.
    visibility = [
        {2: 50},  # chair 2 only a sliver
        {2: 2000, 3: 20},
        {3: 3000},
        {},
        {1: 8000, 4: 2600},
        {5: 921},  # just under the threshold
        {5: 4000},  # over 0.3 %, but cut by the border (box below): not clear
        {5: 6144},  # cut, but 2 %: clear
    ]
    frames = [
        make_frame_dict(i, (0, 0, 1.5), visible=v, timestamp=2.0 * i)
        for i, v in enumerate(visibility)
    ]
    frames[6]["boxes"] = {5: (0, 100, 40, 200)}
    frames[7]["boxes"] = {5: (0, 100, 80, 200)}
    return SceneView(make_scene_dict(objects=OBJECTS, frames=frames))


def test_clearly_visible_rule(view: SceneView) -> None:
    assert not view.frame(5).clearly_visible(5)
    assert view.frame(6).is_cut(5) and not view.frame(6).clearly_visible(5)
    assert view.frame(7).is_cut(5) and view.frame(7).clearly_visible(5)
    assert view.frame(1).box(2) is None and not view.frame(1).is_cut(2)
    assert first_appearance(view, 2) == 1
    assert first_appearance(view, 2, min_pixels=1) == 0
    assert first_appearance(view, view.object(5)) == 7
    assert first_appearance(view, 5, min_pixels=1) == 5
    assert first_appearance(view, 5, frames=[0, 2, 4, 6]) is None
    assert view.frames_showing(5, clearly=True) == [7]
    assert view.frames_showing(5) == [5, 6, 7]


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
        appearance_order(view, ["lamp", "chair"], min_pixels=2500)
    # Only the solver's frames count: from frame 2 on, the table comes first.
    assert appearance_order(view, ["chair", "table"], frames=[2, 4]) == ["table", "chair"]
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
