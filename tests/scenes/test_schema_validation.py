"""Scene validation at load time: each kind of bad scene.json is one clear error that names
the file, the field and the problem, never a crash later in geometry, rendering or training."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenes.errors import SceneDataError
from scenes.schema import Scene

BOX = {"center": [1.0, 1.0, 0.5], "extents": [0.5, 0.5, 1.0]}
POSE = [[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]
INTRINSICS = {"width": 64, "height": 48, "fx": 50.0, "fy": 50.0, "cx": 32.0, "cy": 24.0}


def _scene_dict() -> dict[str, Any]:
    return {
        "id": "room_1",
        "source": "procedural",
        "room": {
            "floor_polygon": [[0, 0], [4, 0], [4, 3], [0, 3]],
            "height": 2.5,
            "area": 12.0,
        },
        "objects": [{"instance_id": 1, "category": "chair", "box": dict(BOX)}],
        "frames": [
            {
                "index": i,
                "timestamp": float(i),
                "intrinsics": INTRINSICS,
                "camera_to_world": POSE,
                "image_path": f"frames/{i:04d}.png",
            }
            for i in range(2)
        ],
    }


def _write(scene_dir: Path, data: dict[str, Any], images: bool = True) -> Path:
    (scene_dir / "frames").mkdir(parents=True)
    if images:
        for frame in data["frames"]:
            (scene_dir / frame["image_path"]).write_bytes(b"png")
    (scene_dir / "scene.json").write_text(json.dumps(data))
    return scene_dir


def _box(data: dict[str, Any], **changes: Any) -> None:
    data["objects"][0]["box"].update(changes)


CASES: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    ("blank category", lambda d: d["objects"][0].update(category="  \t "), "objects.0.category",
     "category is blank"),
    ("zero-size box", lambda d: _box(d, extents=[0.5, 0.0, 1.0]), "objects.0.box",
     "extents must be > 0"),
    ("1e308 centre", lambda d: _box(d, center=[1e308, 0.0, 0.0]), "objects.0.box",
     "within"),
    ("infinite extent", lambda d: _box(d, extents=[float("inf"), 1, 1]), "objects.0.box",
     "finite"),
    ("collinear floor", lambda d: d["room"].update(floor_polygon=[[0, 0], [1, 0], [2, 0]]),
     "room", "degenerate"),
    ("self-intersecting floor",
     lambda d: d["room"].update(floor_polygon=[[0, 0], [4, 3], [4, 0], [0, 3]]),
     "room", "not a simple outline"),
    ("duplicate frame index", lambda d: d["frames"][1].update(index=0), "<root>",
     "frame indices must be unique"),
    ("scene id '..'", lambda d: d.update(id=".."), "<root>", "not a folder name"),
    ("scene id with a slash", lambda d: d.update(id="a/../b"), "id", "pattern"),
    ("frame image outside the folder", lambda d: d["frames"][0].update(image_path="../x.png"),
     "frames.0.image_path", "outside the scene folder"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "break_it", "field", "problem"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_scene_is_one_clear_error(
    tmp_path: Path, name: str, break_it: Callable[[dict[str, Any]], Any], field: str, problem: str
) -> None:
    data = _scene_dict()
    break_it(data)
    scene_dir = _write(tmp_path / "scene", data, images=True)
    with pytest.raises(SceneDataError) as raised:
        Scene.load(scene_dir)
    error = raised.value
    assert error.field == field, (name, str(error))
    assert problem in error.problem, (name, str(error))
    assert str(scene_dir / "scene.json") in str(error)


def test_a_missing_frame_image_is_an_error_naming_the_frame(tmp_path: Path) -> None:
    data = _scene_dict()
    scene_dir = _write(tmp_path / "scene", data)
    (scene_dir / "frames" / "0001.png").unlink()
    with pytest.raises(SceneDataError, match=r"frame 1's file frames/0001.png is missing") as e:
        Scene.load(scene_dir)
    assert e.value.field == "frames.1.image_path"
    assert Scene.load(scene_dir, check_files=False).frames[1].index == 1  # previews may


def test_a_good_scene_loads_and_keeps_its_values(tmp_path: Path) -> None:
    scene = Scene.load(_write(tmp_path / "scene", _scene_dict()))
    assert scene.objects[0].category == "chair" and len(scene.frames) == 2


def test_the_real_rooms_still_pass_validation(vsibench_meta_path: Path, tmp_path: Path) -> None:
    from scenes.loaders import import_scenes

    with pytest.warns(Warning):
        paths = import_scenes("vsibench-meta", vsibench_meta_path, tmp_path / "scenes")
    assert len(paths) == 88
    assert all(Scene.load(path).objects for path in paths)
