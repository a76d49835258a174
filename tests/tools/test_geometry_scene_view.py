"""SceneView: read-only scene access built from the JSON form of a Scene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scenes.schema import Scene
from tools.geometry import Ambiguous, Object3D, SceneView

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_built_from_pydantic_json_form(make_scene_dict, make_frame_dict) -> None:
    data = make_scene_dict(
        objects=[
            (1, "Chair", (1, 1, 0.45), (0.5, 0.5, 0.9)),
            (2, "chair", (3, 1, 0.45), (0.5, 0.5, 0.9)),
        ],
        frames=[
            make_frame_dict(0, (0, 0, 1.5), visible={1: 500}),
            make_frame_dict(1, (0, 0, 1.5), visible={2: 20}),
        ],
    )
    scene = Scene.model_validate(data)
    view = SceneView(json.loads(scene.to_json()))
    assert [o.instance_id for o in view.objects_of("CHAIR")] == [1, 2]
    assert view.frame(0).visible == {1: 500}  # JSON string keys come back as ints
    assert view.frames_showing(2) == [1]
    assert view.frames_showing(2, min_pixels=21) == []
    assert [o.instance_id for o in view.visible_in(0)] == [1]
    assert view.pixels(1, 1) == 0
    # A pydantic Scene is accepted directly too.
    assert SceneView(scene).counts() == view.counts() == {"chair": 2}


def test_counts_follow_declared_counts(make_scene_dict) -> None:
    data = make_scene_dict(
        objects=[
            (1, "chair", (1, 1, 0.4), (0.5, 0.5, 0.8)),
            (2, "table", (3, 2, 0.4), (1, 1, 0.8)),
        ],
        declared_counts={"chair": 3, "lamp": 1},
    )
    view = SceneView(data)
    assert view.counts() == {"chair": 3, "lamp": 1, "table": 1}
    assert view.count("chair") == 3 and view.has("lamp") and not view.has("sofa")
    assert view.unique("table").instance_id == 2
    assert view.unique_categories() == ["table"]
    with pytest.raises(Ambiguous):
        view.unique("chair")  # one box but three declared
    with pytest.raises(Ambiguous):
        view.unique("lamp")  # declared but no box
    with pytest.raises(Ambiguous):
        view.unique("sofa")


def test_objects_are_read_only_and_geometric(make_scene_dict) -> None:
    view = SceneView(make_scene_dict(objects=[(7, "bed", (2, 2, 0.3), (2.0, 1.0, 0.6), 90.0)]))
    bed = view.object(7)
    assert isinstance(bed, Object3D) and bed.size == pytest.approx(2.0)
    assert np.allclose(bed.aabb_min, [1.5, 1.0, 0.0]) and np.allclose(bed.aabb_max, [2.5, 3.0, 0.6])
    assert bed.volume == pytest.approx(1.2) and bed.bottom_z == pytest.approx(0.0)
    assert sorted(map(tuple, np.round(bed.footprint, 6))) == [
        (1.5, 1.0),
        (1.5, 3.0),
        (2.5, 1.0),
        (2.5, 3.0),
    ]
    with pytest.raises(ValueError):
        bed.center[0] = 5.0
    with pytest.raises(AttributeError):
        bed.category = "sofa"  # type: ignore[misc]
    with pytest.raises(KeyError):
        view.object(99)


def test_real_rooms_corners_reproduce_published_bounds(vsibench_raw, vsibench_scene_dicts) -> None:
    checked = 0
    for name, raw in vsibench_raw.items():
        view = SceneView(vsibench_scene_dicts[name])
        assert view.counts() == {c: n for c, n in sorted(raw["object_counts"].items())}
        for category, boxes in raw["object_bbox"].items():
            for obj, box in zip(view.objects_of(category), boxes, strict=True):
                assert np.allclose(obj.aabb_min, box["min"], atol=1e-9)
                assert np.allclose(obj.aabb_max, box["max"], atol=1e-9)
                assert obj.size == pytest.approx(max(box["axesLengths"]), abs=1e-12)
                checked += 1
    assert checked == 1224


def test_package_is_standalone(tmp_path: Path) -> None:
    """The sandbox ships tools/geometry alone as top-level 'geometry': no project imports."""
    target = tmp_path / "geometry"
    target.mkdir()
    for source in (REPO_ROOT / "tools" / "geometry").glob("*.py"):
        (target / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "import geometry as g\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pydantic', 'scenes', 'tools')]\n"
        "assert not bad, bad\n"
        "print(sorted(g.__all__)[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Ambiguous"


def test_flat_box_footprint_is_a_segment(make_scene_dict) -> None:
    view = SceneView(make_scene_dict(objects=[(3, "window", (0, 2, 1.5), (1.0, 0.0, 1.0), 30.0)]))
    window = view.object(3)
    half = np.array([np.cos(np.radians(30)), np.sin(np.radians(30))]) / 2
    assert window.footprint.shape == (2, 2)
    assert sorted(map(tuple, np.round(window.footprint, 9))) == sorted(
        map(tuple, np.round([np.array([0.0, 2.0]) - half, np.array([0.0, 2.0]) + half], 9))
    )
    assert window.footprint_shape.length == pytest.approx(1.0)


def test_loader_scenes_agree_with_published_metadata(vsibench_meta_path, vsibench_raw) -> None:
    """Contract with scenes.loaders: the loaded JSON gives the published sizes and areas."""
    import warnings

    from scenes.loaders.vsibench_meta import load_vsibench_meta
    from tools.geometry import floor_area

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_vsibench_meta(vsibench_meta_path)
    assert len(loaded) == len(vsibench_raw) == 88
    for item in loaded:
        view = SceneView(json.loads(item.scene.to_json()))
        raw = vsibench_raw[view.id]
        assert floor_area(view) == pytest.approx(raw["room_size"])
        assert view.counts() == dict(sorted(raw["object_counts"].items()))
        for obj in view.objects:
            published = min(
                raw["object_bbox"][obj.category],
                key=lambda box, obj=obj: np.linalg.norm(np.subtract(box["centroid"], obj.center)),
            )
            assert np.allclose(obj.center, published["centroid"], atol=1e-9)
            assert obj.size == pytest.approx(max(published["axesLengths"]), abs=1e-9)
            assert np.allclose(obj.aabb_min, published["min"], atol=1e-6)
