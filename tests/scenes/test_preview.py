"""The scene preview: contact sheet + top-down map, for scenes with and without frames."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from scenes import preview
from scenes.errors import SceneDataError
from scenes.loaders import LoaderWarning, import_scenes
from scenes.preview import contact_frame_positions, render_preview
from scenes.schema import (
    CameraIntrinsics,
    Frame,
    Opening,
    OrientedBox,
    Room,
    Scene,
    SceneObject,
)

FRAME_COUNT = 20


def _frame_colour(index: int) -> tuple[int, int, int]:
    """A distinct colour per frame that no map element uses."""
    return (7 + 12 * index, 251 - 11 * index, 97 + (index % 3))


def _make_scene(folder: Path, *, with_images: bool = True) -> Scene:
    room = Room(
        floor_polygon=((0, 0), (5, 0), (5, 4), (0, 4)),
        height=2.6,
        area=20.0,
        openings=(
            Opening(kind="door", wall=0, offset=1.0, width=0.9, height=2.0),
            Opening(kind="window", wall=1, offset=2.0, width=1.2, height=1.2, sill=0.9),
        ),
    )
    c, s = math.cos(0.4), math.sin(0.4)
    objects = (
        SceneObject(
            instance_id=1,
            category="bed",
            box=OrientedBox(center=(1.2, 2.8, 0.25), extents=(2, 1.6, 0.5)),
        ),
        SceneObject(
            instance_id=2,
            category="chair",
            box=OrientedBox(
                center=(3.8, 1.0, 0.45),
                extents=(0.5, 0.5, 0.9),
                rotation=((c, -s, 0), (s, c, 0), (0, 0, 1)),
            ),
        ),
        SceneObject(
            instance_id=3,
            category="lamp",
            box=OrientedBox(center=(4.5, 3.5, 0.8), extents=(0.3, 0.3, 1.6)),
        ),
    )
    frames = []
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    for index in range(FRAME_COUNT):
        angle = 2 * math.pi * index / FRAME_COUNT
        position = (2.5 + 1.2 * math.cos(angle), 2.0 + 1.2 * math.sin(angle), 1.5)
        forward = np.array([-math.sin(angle), math.cos(angle), 0.0])
        right = np.cross(forward, [0.0, 0.0, 1.0])
        pose = np.eye(4)
        pose[:3, :3] = np.stack([right, np.cross(forward, right), forward], axis=1)
        pose[:3, 3] = position
        image_path = f"frames/{index:04d}.png"
        if with_images:
            Image.new("RGB", (64, 48), _frame_colour(index)).save(folder / image_path)
        frames.append(
            Frame(
                index=index,
                timestamp=index * 0.5,
                intrinsics=CameraIntrinsics(width=64, height=48, fx=50, fy=50, cx=32, cy=24),
                camera_to_world=tuple(map(tuple, pose)),
                image_path=image_path,
                visible={1: 10},
            )
        )
    scene = Scene(
        id="preview_demo", source="procedural", room=room, objects=objects, frames=tuple(frames)
    )
    scene.save(folder)
    return scene


def _pixels_of(image: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int(np.all(image == np.asarray(colour, dtype=np.uint8), axis=-1).sum())


def test_contact_frame_positions_are_even_and_keep_both_ends() -> None:
    assert contact_frame_positions(5) == [0, 1, 2, 3, 4]
    chosen = contact_frame_positions(100)
    assert len(chosen) == 16 and chosen[0] == 0 and chosen[-1] == 99
    assert set(np.diff(chosen)) <= {6, 7}
    assert contact_frame_positions(0) == []


def test_preview_shows_exactly_the_chosen_thumbnails_beside_the_map(tmp_path: Path) -> None:
    _make_scene(tmp_path / "scene")
    out = render_preview(tmp_path / "scene", tmp_path / "png" / "preview.png")
    assert out == tmp_path / "png" / "preview.png"
    assert [p.name for p in out.parent.iterdir()] == ["preview.png"]  # no temp files left
    image = np.asarray(Image.open(out).convert("RGB"))
    height, width = image.shape[:2]
    assert width > 1.5 * height  # map and contact sheet side by side
    chosen = contact_frame_positions(FRAME_COUNT)
    assert len(chosen) == 16
    for index in range(FRAME_COUNT):
        shown = _pixels_of(image, _frame_colour(index))
        if index in chosen:
            assert shown > 2000, f"thumbnail of frame {index} is missing"
        else:
            assert shown == 0, f"frame {index} was not chosen but appears"
    # the left half holds the map: the floor colour fills a large part of it
    floor = tuple(int(preview.FLOOR_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    assert _pixels_of(image[:, : width // 2], floor) > 50_000


def test_missing_images_get_a_placeholder_instead_of_failing(tmp_path: Path) -> None:
    _make_scene(tmp_path / "scene", with_images=False)
    (tmp_path / "scene" / "frames").rmdir()
    out = render_preview(tmp_path / "scene", tmp_path / "preview.png")
    assert Image.open(out).size[0] > 1500


def test_metadata_only_real_room_gets_the_map_alone(
    tmp_path: Path, vsibench_meta_path: Path
) -> None:
    with pytest.warns(LoaderWarning):
        paths = import_scenes("vsibench-meta", vsibench_meta_path, tmp_path / "scenes")
    scene_dir = next(p for p in paths if p.name == "scene0500_00")
    out = render_preview(scene_dir, tmp_path / "preview.png")
    image = np.asarray(Image.open(out).convert("RGB"))
    height, width = image.shape[:2]
    assert width < 1.4 * height  # no contact sheet
    assert (image < 250).any(axis=-1).mean() > 0.05  # boxes were drawn, not a blank canvas


def test_legend_flags_categories_whose_published_count_differs(tmp_path: Path) -> None:
    scene = _make_scene(tmp_path / "scene").model_copy(
        update={"declared_counts": {"chair": 3, "bed": 1}}
    )
    labels = preview._category_labels(scene)
    assert labels == {
        "bed": "bed (1)",
        "chair": "chair (1 boxes, 3 counted)",
        "lamp": "lamp (1)",
    }


def test_a_folder_without_scene_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SceneDataError, match=r"scene\.json"):
        render_preview(tmp_path, tmp_path / "preview.png")
    assert not (tmp_path / "preview.png").exists()


def test_cli_show_writes_the_png(tmp_path: Path, loader_fixtures_dir: Path) -> None:
    from graphs.commands.scenes import app

    (scene_dir,) = import_scenes("scannet", loader_fixtures_dir / "scannet", tmp_path / "s")
    out = tmp_path / "show.png"
    result = CliRunner().invoke(app, ["show", str(scene_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert Image.open(out).format == "PNG"
