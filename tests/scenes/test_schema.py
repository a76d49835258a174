from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from scenes.errors import SceneDataError
from scenes.schema import (
    CameraIntrinsics,
    Frame,
    OrientedBox,
    Room,
    Scene,
    SceneObject,
    list_scene_dirs,
)


def _yaw(deg: float) -> tuple:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


def make_scene() -> Scene:
    room = Room(floor_polygon=((0, 0), (4, 0), (4, 3), (0, 3)), height=2.6, area=12.0)
    objects = (
        SceneObject(
            instance_id=1,
            category="Chair",
            box=OrientedBox(center=(1, 1, 0.45), extents=(0.5, 0.5, 0.9)),
        ),
        SceneObject(
            instance_id=2,
            category="table",
            box=OrientedBox(center=(2.5, 1.5, 0.375), extents=(1.2, 0.8, 0.75), rotation=_yaw(30)),
        ),
    )
    pose = ((1, 0, 0, 0.5), (0, 0, 1, 0.5), (0, -1, 0, 1.6), (0, 0, 0, 1))
    frame = Frame(
        index=0,
        timestamp=0.0,
        intrinsics=CameraIntrinsics(width=64, height=48, fx=50, fy=50, cx=32, cy=24),
        camera_to_world=pose,
        image_path="frames/0000.png",
        visible={1: 120, 2: 40},
    )
    return Scene(
        id="demo_0",
        source="procedural",
        room=room,
        objects=objects,
        frames=(frame,),
        provenance={"seed": 0},
    )


def test_scene_round_trips_through_scene_json(tmp_path: Path) -> None:
    scene = make_scene()
    scene.save(tmp_path / "demo")
    (tmp_path / "demo" / "frames").mkdir()
    (tmp_path / "demo" / "frames" / "0000.png").write_bytes(b"png")
    loaded = Scene.load(tmp_path / "demo")
    assert loaded == scene
    assert loaded.objects[0].category == "chair"  # normalised to lower case
    assert loaded.frames[0].visible == {1: 120, 2: 40}
    assert list_scene_dirs(tmp_path) == [tmp_path / "demo"]


def test_box_corners_follow_the_rotation_convention() -> None:
    box = OrientedBox(center=(0, 0, 0), extents=(2, 1, 1), rotation=_yaw(90))
    lo, hi = box.axis_aligned_bounds()
    # a 2 m long box turned by 90 degrees about z is 2 m long along y
    np.testing.assert_allclose(hi - lo, [1, 2, 1], atol=1e-9)


def test_camera_forward_is_the_pose_z_column() -> None:
    frame = make_scene().frames[0]
    np.testing.assert_allclose(frame.forward, [0, 1, 0])
    np.testing.assert_allclose(frame.position, [0.5, 0.5, 1.6])


def test_declared_counts_win_for_counting() -> None:
    scene = make_scene().model_copy(update={"declared_counts": {"chair": 3}})
    assert scene.categories() == {"chair": 3, "table": 1}


@pytest.mark.parametrize(
    "bad",
    [
        lambda: OrientedBox(center=(0, 0, float("nan")), extents=(1, 1, 1)),
        lambda: OrientedBox(center=(0, 0, 0), extents=(-1, 1, 1)),
        lambda: OrientedBox(
            center=(0, 0, 0), extents=(1, 1, 1), rotation=((2, 0, 0), (0, 1, 0), (0, 0, 1))
        ),
        lambda: Room(floor_polygon=((0, 0), (1, 0)), height=2.5, area=1.0),
        lambda: Room(floor_polygon=(), height=2.5, area=0.0),
        lambda: (
            make_scene()
            .model_copy(update={"id": ""})
            .model_validate(
                {**make_scene().model_dump(), "objects": [make_scene().objects[0].model_dump()] * 2}
            )
        ),
    ],
)
def test_invalid_records_are_rejected(bad) -> None:
    with pytest.raises(ValidationError):
        bad()


def test_loading_a_corrupt_scene_names_the_file_and_field(tmp_path: Path) -> None:
    scene_dir = tmp_path / "broken"
    make_scene().save(scene_dir)
    text = (scene_dir / "scene.json").read_text().replace('"height": 2.6', '"height": "tall"')
    (scene_dir / "scene.json").write_text(text)
    with pytest.raises(SceneDataError, match=r"scene.json: field 'room.height'"):
        Scene.load(scene_dir)


def test_missing_scene_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SceneDataError, match="file not found"):
        Scene.load(tmp_path)
