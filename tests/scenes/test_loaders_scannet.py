"""The ScanNet loader on a tiny scene written in ScanNet's native formats, and on bad input."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
import trimesh

from scenes.errors import SceneDataError
from scenes.loaders import import_scenes, load_scenes
from scenes.schema import Scene

SCENE = "scene0999_00"


def _only_scene(src: Path) -> Scene:
    (item,) = load_scenes("scannet", src)
    return item.scene


def test_objects_are_axis_aligned_yaw_boxes_with_mapped_labels(
    loader_fixtures_dir: Path, fixture_truth: dict, same_box: Callable
) -> None:
    scene = _only_scene(loader_fixtures_dir / "scannet")
    truth = fixture_truth["scannet"]
    assert scene.id == SCENE and scene.source == "scannet"
    assert [o.instance_id for o in scene.objects] == [o["instance_id"] for o in truth["objects"]]
    assert [o.category for o in scene.objects] == [o["category"] for o in truth["objects"]]
    for obj, expected in zip(scene.objects, truth["objects"], strict=True):
        assert same_box(obj.box, expected), (obj.category, obj.box)
        assert obj.box.rotation[2] == (0.0, 0.0, 1.0)  # yaw only
    assert "wall" not in scene.categories() and "floor" not in scene.categories()
    assert scene.provenance["label_map"] == "scannetv2-labels.combined.tsv"


def test_room_is_the_mesh_footprint_and_z_range(
    loader_fixtures_dir: Path, fixture_truth: dict
) -> None:
    room = _only_scene(loader_fixtures_dir / "scannet").room
    truth = fixture_truth["scannet"]
    outline, expected = shapely.Polygon(room.floor_polygon), shapely.Polygon(truth["polygon"])
    assert outline.exterior.is_ccw
    assert outline.symmetric_difference(expected).area < 0.05  # the L shape, not its hull
    assert math.isclose(room.area, truth["area"], abs_tol=0.05)
    assert math.isclose(room.height, truth["height"], abs_tol=1e-4)
    assert abs(room.floor_z) < 1e-4


def test_frames_come_from_poses_in_the_aligned_frame(
    loader_fixtures_dir: Path, fixture_truth: dict
) -> None:
    scene = _only_scene(loader_fixtures_dir / "scannet")
    truth = fixture_truth["scannet"]
    assert len(scene.frames) == 3  # pose/30.txt is ScanNet's -inf "tracking lost" marker
    assert scene.provenance["frames_skipped_invalid_pose"] == 1
    for frame, pose, number in zip(
        scene.frames, truth["poses"], truth["frame_numbers"], strict=True
    ):
        assert np.allclose(frame.pose, pose, atol=1e-4)
        assert math.isclose(frame.timestamp, number / 30.0)
        assert frame.visible == {}
        assert (frame.intrinsics.width, frame.intrinsics.height) == (64, 48)
        assert math.isclose(frame.intrinsics.fx, 55.4)


def test_import_copies_frames_and_loads_back_equal(
    tmp_path: Path, loader_fixtures_dir: Path
) -> None:
    (path,) = import_scenes("scannet", loader_fixtures_dir / "scannet" / SCENE, tmp_path / "out")
    loaded = Scene.load(path)
    assert loaded == _only_scene(loader_fixtures_dir / "scannet")
    assert loaded.has_frames
    source = loader_fixtures_dir / "scannet" / SCENE / "color" / "10.jpg"
    assert (path / loaded.frames[1].image_path).read_bytes() == source.read_bytes()


def test_without_a_label_map_raw_labels_are_kept(scannet_copy: Path) -> None:
    (scannet_copy / "scannetv2-labels.combined.tsv").unlink()
    scene = _only_scene(scannet_copy)
    assert "kitchen cabinets" in scene.categories()
    assert scene.provenance["label_map"] == "raw labels"


# -- bad input --------------------------------------------------------------------------


def _scene_file(root: Path, suffix: str) -> Path:
    return root / SCENE / f"{SCENE}{suffix}"


def _edit_json(path: Path, edit: Callable[[dict], None]) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _no_alignment(root: Path) -> None:
    meta = _scene_file(root, ".txt")
    lines = meta.read_text().splitlines(keepends=True)
    meta.write_text("".join(line for line in lines if "axisAlignment" not in line))


def _nan_alignment(root: Path) -> None:
    meta = _scene_file(root, ".txt")
    lines = meta.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("axisAlignment"))
    numbers = lines[first].split("=")[1].split()
    lines[first] = "axisAlignment = " + " ".join(["nan", *numbers[1:]]) + "\n"
    meta.write_text("".join(lines))


def _no_seg_groups(root: Path) -> None:
    _edit_json(_scene_file(root, ".aggregation.json"), lambda d: d.pop("segGroups"))


def _object_id_as_text(root: Path) -> None:
    def edit(document: dict) -> None:
        document["segGroups"][3]["objectId"] = "3"

    _edit_json(_scene_file(root, ".aggregation.json"), edit)


def _unknown_label(root: Path) -> None:
    def edit(document: dict) -> None:
        document["segGroups"][4]["label"] = "spaceship"

    _edit_json(_scene_file(root, ".aggregation.json"), edit)


def _only_structure(root: Path) -> None:
    def edit(document: dict) -> None:
        keep = {"wall", "floor", "ceiling"}
        document["segGroups"] = [g for g in document["segGroups"] if g["label"] in keep]

    _edit_json(_scene_file(root, ".aggregation.json"), edit)


def _short_seg_indices(root: Path) -> None:
    _edit_json(
        _scene_file(root, "_vh_clean_2.0.010000.segs.json"),
        lambda d: d.update(segIndices=d["segIndices"][:-5]),
    )


def _flat_footprint(root: Path) -> None:
    ply = _scene_file(root, "_vh_clean_2.ply")
    mesh = trimesh.load(ply, process=False)
    vertices = np.asarray(mesh.vertices).copy()
    vertices[:, :2] = 1.0  # every vertex above one point: no floor area
    trimesh.Trimesh(vertices, mesh.faces, process=False).export(ply, file_type="ply")


def _no_intrinsics(root: Path) -> None:
    (root / SCENE / "intrinsic" / "intrinsic_color.txt").unlink()


BAD_SCENES = {
    "missing field": (_no_alignment, ".txt", "axisAlignment", "missing"),
    "missing list": (_no_seg_groups, ".aggregation.json", "segGroups", "missing"),
    "wrong type": (_object_id_as_text, ".aggregation.json", "segGroups[3].objectId", "integer"),
    "NaN": (_nan_alignment, ".txt", "axisAlignment", "finite"),
    "unknown category": (_unknown_label, ".aggregation.json", "segGroups[4].label", "unknown"),
    "empty room": (_only_structure, ".aggregation.json", "segGroups", "no objects"),
    "zero area": (_flat_footprint, "_vh_clean_2.ply", "element vertex", "zero floor area"),
    "vertex count": (
        _short_seg_indices,
        "_vh_clean_2.0.010000.segs.json",
        "segIndices",
        "vertices",
    ),
    "missing file": (_no_intrinsics, "", "<file>", "not found"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENES))
def test_bad_input_gives_one_clear_error_and_writes_nothing(
    tmp_path: Path, scannet_copy: Path, case: str
) -> None:
    spoil, suffix, field, problem = BAD_SCENES[case]
    spoil(scannet_copy)
    out = tmp_path / "out"
    with pytest.raises(SceneDataError) as raised:
        import_scenes("scannet", scannet_copy, out)
    error = raised.value
    if suffix:
        assert error.path == str(_scene_file(scannet_copy, suffix))
    assert error.field == field
    assert str(error).startswith(f"{error.path}: field '{field}'")
    assert problem in str(error)
    assert not out.exists()
