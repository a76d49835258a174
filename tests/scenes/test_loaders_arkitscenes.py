"""The ARKitScenes loader on a 3DOD annotation + mesh in the native format, and on bad input."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from scenes.errors import SceneDataError
from scenes.loaders import import_scenes, load_scenes
from scenes.loaders.arkitscenes import CLASS_NAMES
from scenes.schema import Scene

VIDEO = "47331606"


def _annotation(root: Path) -> Path:
    return root / VIDEO / f"{VIDEO}_3dod_annotation.json"


def test_boxes_categories_and_mesh_room(
    loader_fixtures_dir: Path, fixture_truth: dict, same_box: Callable
) -> None:
    (item,) = load_scenes("arkitscenes", loader_fixtures_dir / "arkitscenes")
    scene, truth = item.scene, fixture_truth["arkitscenes"]
    assert scene.id == VIDEO and scene.source == "arkitscenes"
    assert [o.category for o in scene.objects] == ["bed", "tv monitor", "chair"]
    for obj, expected in zip(scene.objects, truth["objects"], strict=True):
        assert obj.instance_id == expected["instance_id"]
        assert same_box(obj.box, expected), obj
    assert math.isclose(scene.room.area, truth["area"], abs_tol=0.05)
    assert math.isclose(scene.room.height, truth["height"], abs_tol=1e-4)
    assert scene.provenance["room_rule"].startswith("mesh footprint")
    assert len(CLASS_NAMES) == 17


def test_annotation_file_alone_gives_a_room_around_the_boxes(
    tmp_path: Path, arkitscenes_copy: Path
) -> None:
    (arkitscenes_copy / VIDEO / f"{VIDEO}_3dod_mesh.ply").unlink()
    (item,) = load_scenes("arkitscenes", _annotation(arkitscenes_copy))
    room, objects = item.scene.room, item.scene.objects
    assert item.scene.provenance["room_rule"].startswith("convex hull of the boxes")
    lowest = min(o.box.axis_aligned_bounds()[0][2] for o in objects)
    highest = max(o.box.axis_aligned_bounds()[1][2] for o in objects)
    assert math.isclose(room.floor_z, lowest) and math.isclose(room.height, highest - lowest)
    assert room.area > 0 and len(room.floor_polygon) >= 3
    (path,) = import_scenes("arkitscenes", arkitscenes_copy, tmp_path / "out")
    assert Scene.load(path) == item.scene


# -- bad input --------------------------------------------------------------------------


def _edit(root: Path, change: Callable[[dict], None]) -> None:
    path = _annotation(root)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _box(document: dict, index: int) -> dict:
    return document["data"][index]["segments"]["obbAligned"]


BAD_ANNOTATIONS: dict[str, tuple[Callable[[dict], None], str, str]] = {
    "missing field": (
        lambda d: _box(d, 1).pop("centroid"),
        "data[1].segments.obbAligned.centroid",
        "missing",
    ),
    "wrong type": (
        lambda d: _box(d, 0).update(axesLengths="big"),
        "data[0].segments.obbAligned.axesLengths",
        "expected a list",
    ),
    "NaN": (
        lambda d: _box(d, 2)["centroid"].__setitem__(0, float("nan")),
        "data[2].segments.obbAligned.centroid[0]",
        "finite",
    ),
    "unknown category": (
        lambda d: d["data"][2].update(label="spaceship"),
        "data[2].label",
        "unknown category 'spaceship'",
    ),
    "empty room": (lambda d: d.update(data=[]), "data", "no objects"),
    "skipped scan": (lambda d: d.update(skipped=True), "skipped", "marked skipped"),
    "not a rotation": (
        lambda d: _box(d, 0).update(normalizedAxes=[2, 0, 0, 0, 1, 0, 0, 0, 1]),
        "data[0].segments.obbAligned.normalizedAxes",
        "orthonormal",
    ),
    "duplicate uid": (
        lambda d: d["data"][1].update(uid=d["data"][0]["uid"]),
        "data[1].uid",
        "more than once",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ANNOTATIONS))
def test_bad_input_gives_one_clear_error_and_writes_nothing(
    tmp_path: Path, arkitscenes_copy: Path, case: str
) -> None:
    change, field, problem = BAD_ANNOTATIONS[case]
    _edit(arkitscenes_copy, change)
    out = tmp_path / "out"
    with pytest.raises(SceneDataError) as raised:
        import_scenes("arkitscenes", arkitscenes_copy, out)
    error = raised.value
    assert error.path == str(_annotation(arkitscenes_copy))
    assert error.field == field
    assert str(error).startswith(f"{error.path}: field '{field}'")
    assert problem in str(error)
    assert not out.exists()


def test_a_zero_size_box_is_an_error_naming_its_field(
    tmp_path: Path, arkitscenes_copy: Path
) -> None:
    (arkitscenes_copy / VIDEO / f"{VIDEO}_3dod_mesh.ply").unlink()
    _edit(arkitscenes_copy, lambda d: d.update(data=d["data"][:1]))
    _edit(arkitscenes_copy, lambda d: _box(d, 0).update(axesLengths=[0.0, 0.0, 0.5]))
    with pytest.raises(SceneDataError, match="side lengths must be > 0") as raised:
        import_scenes("arkitscenes", arkitscenes_copy, tmp_path / "out")
    assert raised.value.field.endswith("axesLengths")
    assert not (tmp_path / "out").exists()


def test_unknown_category_error_lists_the_official_classes(arkitscenes_copy: Path) -> None:
    _edit(arkitscenes_copy, lambda d: d["data"][0].update(label="lamp"))
    with pytest.raises(SceneDataError, match="tv_monitor, sofa"):
        load_scenes("arkitscenes", arkitscenes_copy)
