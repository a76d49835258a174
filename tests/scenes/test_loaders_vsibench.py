"""The VSI-Bench meta-info loader on the real file of 88 ScanNet rooms, and on bad input."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from common.errors import UserError
from scenes import loaders
from scenes.errors import SceneDataError
from scenes.loaders import LoaderWarning, import_scenes, load_scenes
from scenes.schema import Scene

SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])


def _raw(path: Path) -> dict:
    return json.loads(path.read_text())


def _published_mismatches(raw: dict) -> set[tuple[str, str]]:
    return {
        (scene_id, category)
        for scene_id, entry in raw.items()
        for category, boxes in entry["object_bbox"].items()
        if entry["object_counts"][category] != len(boxes)
    }


@pytest.fixture(scope="module")
def real_scenes(vsibench_meta_path: Path) -> list[Scene]:
    with pytest.warns(LoaderWarning):
        return [item.scene for item in load_scenes("vsibench-meta", vsibench_meta_path)]


def test_all_88_rooms_import_validate_and_load_back_equal(
    tmp_path: Path, vsibench_meta_path: Path, real_scenes: list[Scene]
) -> None:
    with pytest.warns(LoaderWarning):
        paths = import_scenes("vsibench-meta", vsibench_meta_path, tmp_path / "out")
    assert len(paths) == 88
    assert sorted(p.name for p in paths) == sorted(_raw(vsibench_meta_path))
    by_id = {scene.id: scene for scene in real_scenes}
    for path in paths:
        loaded = Scene.load(path)
        assert loaded == by_id[path.name]
        assert loaded.source == "vsibench-meta"
        assert loaded.frames == () and not loaded.has_frames
        assert not (path / "frames").exists()


def test_normalized_axes_rows_are_the_box_axes_on_every_box(
    vsibench_meta_path: Path, real_scenes: list[Scene]
) -> None:
    raw = _raw(vsibench_meta_path)
    worst_rows, worst_columns = 0.0, 0.0
    for scene in real_scenes:
        for category, boxes in raw[scene.id]["object_bbox"].items():
            loaded = [o.box for o in scene.objects if o.category == category]
            for published in boxes:
                matrix = np.reshape(published["normalizedAxes"], (3, 3))
                half, centre = np.asarray(published["axesLengths"]) / 2, published["centroid"]
                as_columns = centre + (SIGNS * half) @ matrix.T
                worst_columns = max(
                    worst_columns, float(np.abs(as_columns.min(0) - published["min"]).max())
                )
                errors = [
                    max(
                        np.abs(box.axis_aligned_bounds()[0] - published["min"]).max(),
                        np.abs(box.axis_aligned_bounds()[1] - published["max"]).max(),
                    )
                    for box in loaded
                ]
                worst_rows = max(worst_rows, float(min(errors)))
    assert worst_rows < 1e-9  # our reading reproduces the published min/max on all boxes
    assert worst_columns > 0.5  # the other reading does not: the check can tell them apart


def test_room_uses_published_area_no_outline_and_box_span_height(
    vsibench_meta_path: Path, real_scenes: list[Scene]
) -> None:
    raw = _raw(vsibench_meta_path)
    for scene in real_scenes:
        entry = raw[scene.id]
        bottoms = [b["min"][2] for boxes in entry["object_bbox"].values() for b in boxes]
        tops = [b["max"][2] for boxes in entry["object_bbox"].values() for b in boxes]
        assert scene.room.area == entry["room_size"]
        assert scene.room.floor_polygon == ()
        assert math.isclose(scene.room.floor_z, min(bottoms), abs_tol=1e-9)
        assert math.isclose(scene.room.height, max(tops) - min(bottoms), abs_tol=1e-9)
        assert scene.provenance["room_center_x"] == entry["room_center"][0]


def test_counts_follow_object_counts_and_all_12_mismatches_are_recorded(
    vsibench_meta_path: Path, real_scenes: list[Scene]
) -> None:
    raw = _raw(vsibench_meta_path)
    published = _published_mismatches(raw)
    assert len(published) == 12
    recorded = set()
    for scene in real_scenes:
        assert scene.declared_counts == raw[scene.id]["object_counts"]
        assert scene.provenance["count_source"] == "object_counts"
        note = scene.provenance["count_mismatches"]
        for category in raw[scene.id]["object_counts"]:
            if note and f"{category}: object_counts=" in note:
                recorded.add((scene.id, category))
    assert recorded == published
    by_id = {scene.id: scene for scene in real_scenes}
    # printers listed twice with identical numbers become one object each
    printers = [o for o in by_id["scene0077_01"].objects if o.category == "printer"]
    assert len(printers) == 3 and by_id["scene0077_01"].categories()["printer"] == 3
    assert by_id["scene0077_01"].provenance["duplicate_boxes_dropped"] == 3
    # genuine disagreements keep every box but count as published
    windows = [o for o in by_id["scene0500_00"].objects if o.category == "window"]
    assert len(windows) == 5 and by_id["scene0500_00"].categories()["window"] == 7
    assert (
        "window: object_counts=7, boxes=5" in by_id["scene0500_00"].provenance["count_mismatches"]
    )


def test_mismatches_raise_one_warning_naming_the_scenes(vsibench_meta_path: Path) -> None:
    with pytest.warns(LoaderWarning) as caught:
        load_scenes("vsibench-meta", vsibench_meta_path)
    messages = [str(w.message) for w in caught if issubclass(w.category, LoaderWarning)]
    assert len(messages) == 1
    assert "disagree in 12 (scene, category) pairs" in messages[0]
    assert "scene0500_00/window" in messages[0] and "scene0077_01/printer" in messages[0]


def test_cli_imports_the_real_file(tmp_path: Path, vsibench_meta_path: Path) -> None:
    from graphs.commands.scenes import app

    out = tmp_path / "cli"
    with pytest.warns(LoaderWarning):
        result = CliRunner().invoke(
            app,
            ["import", "--format", "vsibench-meta", str(vsibench_meta_path), "--out", str(out)],
        )
    assert result.exit_code == 0, result.output
    assert "imported 88 scene(s)" in result.output
    assert len(list(out.glob("*/scene.json"))) == 88


# -- bad input --------------------------------------------------------------------------


@pytest.fixture
def one_room(vsibench_meta_path: Path) -> dict:
    return {"scene0251_00": _raw(vsibench_meta_path)["scene0251_00"]}


def _del_room_size(room: dict) -> None:
    del room["room_size"]


def _centroid_as_text(room: dict) -> None:
    room["object_bbox"]["chair"][0]["centroid"] = "1.0, 2.0, 3.0"


def _nan_length(room: dict) -> None:
    room["object_bbox"]["chair"][1]["axesLengths"][2] = float("nan")


def _unknown_category(room: dict) -> None:
    room["object_bbox"]["spaceship"] = room["object_bbox"]["chair"]


def _no_objects(room: dict) -> None:
    room["object_bbox"], room["object_counts"] = {}, {}


def _zero_area(room: dict) -> None:
    room["room_size"] = 0.0


def _skewed_axes(room: dict) -> None:
    room["object_bbox"]["table"][0]["normalizedAxes"] = [1, 0, 0, 0.5, 1, 0, 0, 0, 1]


def _count_as_text(room: dict) -> None:
    room["object_counts"]["door"] = "three"


BAD_ROOMS = {
    "missing field": (_del_room_size, "scene0251_00.room_size", "missing"),
    "wrong type": (_centroid_as_text, "scene0251_00.object_bbox.chair[0].centroid", "list"),
    "NaN": (_nan_length, "scene0251_00.object_bbox.chair[1].axesLengths[2]", "finite"),
    "unknown category": (_unknown_category, "scene0251_00.object_bbox.spaceship", "unknown"),
    "empty room": (_no_objects, "scene0251_00.object_bbox", "no objects"),
    "zero area": (_zero_area, "scene0251_00.room_size", "> 0"),
    "not a rotation": (_skewed_axes, "object_bbox.table[0].normalizedAxes", "orthonormal"),
    "count not an integer": (_count_as_text, "object_counts.door", "integer"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROOMS))
def test_bad_input_gives_one_clear_error_and_writes_nothing(
    tmp_path: Path, one_room: dict, case: str
) -> None:
    mutate, field, problem = BAD_ROOMS[case]
    good = copy.deepcopy(one_room["scene0251_00"])
    mutate(one_room["scene0251_00"])
    # a good room first: the bad one must stop the whole import before anything is written
    document = {"scene0000_00": good, **one_room}
    src = tmp_path / "meta_info.json"
    src.write_text(json.dumps(document))
    out = tmp_path / "out"
    with pytest.raises(SceneDataError) as raised:
        import_scenes("vsibench-meta", src, out)
    message = str(raised.value)
    assert message.startswith(str(src))
    assert field in raised.value.field and f"field '{raised.value.field}'" in message
    assert problem in message
    assert not out.exists()


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    src = tmp_path / "meta_info.json"
    src.write_text('{"scene0000_00": {"room_size": 3,,}}')
    with pytest.raises(SceneDataError, match=r"invalid JSON at line 1"):
        load_scenes("vsibench-meta", src)


def test_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="known formats: arkitscenes, scannet, vsibench-meta"):
        import_scenes("matterport", tmp_path, tmp_path / "out")


def test_a_failed_write_removes_the_scenes_this_import_wrote(
    tmp_path: Path, vsibench_meta_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real_write = loaders._write_scene

    def fail_on_third(item: loaders.LoadedScene, scene_dir: Path) -> None:
        if len(written) == 2:
            raise OSError("disk full")
        real_write(item, scene_dir)
        written.append(item.scene.id)

    monkeypatch.setattr(loaders, "_write_scene", fail_on_third)
    out = tmp_path / "out"
    (out / "keep_me").mkdir(parents=True)
    with pytest.warns(LoaderWarning), pytest.raises(OSError, match="disk full"):
        import_scenes("vsibench-meta", vsibench_meta_path, out)
    assert [p.name for p in out.iterdir()] == ["keep_me"]


def test_importing_over_existing_scene_folders_is_refused(tmp_path: Path, one_room: dict) -> None:
    src = tmp_path / "meta_info.json"
    src.write_text(json.dumps(one_room))
    out = tmp_path / "out"
    import_scenes("vsibench-meta", src, out)
    with pytest.raises(UserError, match="already holds scene folder"):
        import_scenes("vsibench-meta", src, out)
