"""Generated scene folders: determinism, visibility bookkeeping, re-rendering, errors, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from common.errors import UserError
from graphs.commands.scenes import app
from scenes.procedural import generate as generate_module
from scenes.procedural import generate_scene, generate_scenes
from scenes.render import Renderer, read_depth_png, read_instance_png
from scenes.render.images import depth_png_array
from scenes.schema import Scene

SIZE = {"frames": 4, "width": 64, "height": 48}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("generated")
    return generate_scenes(num=2, seed=11, out=out, progress=False, **SIZE)


def test_folders_hold_scene_json_and_three_images_per_frame(written: list[Path]) -> None:
    assert [p.name for p in written] == ["proc_000011", "proc_000012"]
    for folder in written:
        scene = Scene.load(folder)
        assert scene.id == folder.name and scene.source == "procedural" and len(scene.frames) == 4
        names = set(_files(folder))
        for frame in scene.frames:
            assert {frame.image_path, frame.instance_path, frame.depth_path} <= names
            with Image.open(folder / frame.image_path) as rgb:
                assert rgb.size == (64, 48) and rgb.mode == "RGB"
        assert names == {"scene.json"} | {
            f"frames/{i:04d}{s}.png" for i in range(4) for s in ("", "_inst", "_depth")
        }
    assert not any(
        p.name.startswith(".") for p in written[0].parent.iterdir()
    )  # no temp folders left


def test_same_seed_gives_byte_identical_files(written: list[Path], tmp_path: Path) -> None:
    again = generate_scenes(num=2, seed=11, out=tmp_path, progress=False, **SIZE)
    for first, second in zip(written, again, strict=True):
        assert _files(first) == _files(second)
    assert (written[0] / "scene.json").read_bytes() != (written[1] / "scene.json").read_bytes()


def test_visible_counts_match_the_instance_pngs(written: list[Path]) -> None:
    seen_somewhere = 0
    for folder in written:
        scene = Scene.load(folder)
        for frame in scene.frames:
            ids = read_instance_png(folder / frame.instance_path)
            values, counts = np.unique(ids[ids > 0], return_counts=True)
            assert frame.visible == dict(zip(values.tolist(), counts.tolist(), strict=True))
            seen_somewhere += bool(frame.visible)
    assert seen_somewhere >= 4


def test_saved_scene_re_renders_to_the_same_pixels(written: list[Path]) -> None:
    folder = written[0]
    scene = Scene.load(folder)
    with Renderer(scene) as renderer:
        for frame in scene.frames:
            result = renderer.render_frame(frame)
            np.testing.assert_array_equal(
                result.rgb, np.asarray(Image.open(folder / frame.image_path))
            )
            np.testing.assert_array_equal(
                result.object_ids(), read_instance_png(folder / frame.instance_path)
            )
            np.testing.assert_array_equal(
                depth_png_array(result.depth),
                np.rint(read_depth_png(folder / frame.depth_path) * 1000),
            )
            assert result.visible == frame.visible


def test_in_memory_scene_equals_the_written_one(written: list[Path]) -> None:
    generated = generate_scene(11, **SIZE)
    saved = Scene.load(written[0])
    assert generated.scene == saved
    assert generated.rgb.shape == (4, 48, 64, 3) and generated.depth.dtype == np.float32
    for index, frame in enumerate(saved.frames):
        np.testing.assert_array_equal(
            generated.rgb[index], np.asarray(Image.open(written[0] / frame.image_path))
        )


def test_walkthrough_shows_most_of_the_furniture() -> None:
    shown = []
    for seed in (0, 1, 2):
        scene = generate_scene(seed, frames=16, width=96, height=72).scene
        floor_items = {o.instance_id for o in scene.objects if o.support is None}
        seen = set().union(*(frame.visible for frame in scene.frames))
        shown.append(len(floor_items & seen) / len(floor_items))
    assert min(shown) >= 0.7, shown


def test_existing_scene_folders_are_refused_and_kept(written: list[Path]) -> None:
    before = _files(written[0])
    with pytest.raises(UserError, match="already exists"):
        generate_scenes(num=1, seed=11, out=written[0].parent, progress=False, **SIZE)
    assert _files(written[0]) == before


def test_a_failure_half_way_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def failing_write(*args: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(generate_module, "write_frame_images", failing_write)
    with pytest.raises(OSError, match="disk full"):
        generate_scenes(num=1, seed=3, out=tmp_path, progress=False, **SIZE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"num": 0, "seed": 0}, "--num"),
        ({"num": 1, "seed": -1}, "seed"),
        ({"num": 1, "seed": 0, "frames": 0}, "frames"),
    ],
)
def test_bad_arguments_are_user_errors(tmp_path: Path, arguments: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        generate_scenes(out=tmp_path, progress=False, **{"width": 32, "height": 24, **arguments})
    assert list(tmp_path.iterdir()) == []


def test_cli_generates_scenes(tmp_path: Path) -> None:
    args = [
        "generate",
        "--out",
        str(tmp_path),
        "--num",
        "1",
        "--seed",
        "4",
        "--frames",
        "2",
        "--width",
        "32",
        "--height",
        "24",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    scene = Scene.load(tmp_path / "proc_000004")
    assert len(scene.frames) == 2 and scene.frames[0].intrinsics.width == 32
