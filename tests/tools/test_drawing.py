"""Drawing tools: exact boxes in the solver's frames and ViLaSR's drawing semantics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenes.procedural.generate import write_scene
from scenes.render.images import read_instance_png
from scenes.schema import Scene
from tools.drawing import DrawingBoard, DrawingError
from tools.drawing.frame_geometry import FrameGeometry, solver_intrinsics
from tools.geometry.image_space import (
    from_coordinates,
    mask_boxes,
    project_points,
    to_coordinates,
)


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scene(3, tmp_path_factory.mktemp("draw") / "proc", frames=4, width=96, height=72)


def test_boxes_at_native_size_equal_the_stored_instance_masks(scene_dir: Path) -> None:
    """Re-rendering at the frame's own size reproduces the renderer's instance PNG exactly."""
    scene = Scene.load(scene_dir)
    frame = scene.frames[1]
    stored = mask_boxes(read_instance_png(scene_dir / frame.instance_path))
    assert stored, "the fixture frame shows no object"
    geometry = FrameGeometry(scene, size=96)
    # a square re-render of a 96x72 frame squeezes y; compare in the squeezed frame
    boxes = geometry.boxes(frame.index)
    for instance_id, box in stored.items():
        if box.pixels < 20:
            continue
        assert instance_id in boxes
        got = boxes[instance_id]
        assert got.x1 == pytest.approx(box.x1, abs=1)
        assert got.x2 == pytest.approx(box.x2, abs=1)
        assert got.y1 == pytest.approx(box.y1 * 96 / 72, abs=2)
        assert got.y2 == pytest.approx(box.y2 * 96 / 72, abs=2)
    geometry.close()


def test_projected_corners_contain_the_mask_box_of_unoccluded_objects(scene_dir: Path) -> None:
    scene = Scene.load(scene_dir)
    masks = FrameGeometry(scene, size=64)
    projected = FrameGeometry(scene, size=64, use_masks=False)
    checked = 0
    for frame in scene.frames:
        for instance_id, box in masks.boxes(frame.index).items():
            other = projected.boxes(frame.index).get(instance_id)
            assert other is not None and other.source == "projection"
            assert other.x1 <= box.x1 + 1 and other.y1 <= box.y1 + 1
            assert other.x2 >= box.x2 - 1 and other.y2 >= box.y2 - 1
            checked += 1
    assert checked >= 3
    masks.close()


def test_point_projection_uses_the_depth_test(scene_dir: Path) -> None:
    """A surface point the camera sees projects back to its pixel; one behind a wall is hidden."""
    scene = Scene.load(scene_dir)
    geometry = FrameGeometry(scene, size=64)
    frame = scene.frames[0]
    depth = geometry.depth(frame.index)
    assert depth is not None
    k = solver_intrinsics(frame, 64).matrix
    u, v = 20.5, 33.5
    z = float(depth[int(v), int(u)])
    camera = np.array([(u - k[0, 2]) / k[0, 0] * z, (v - k[1, 2]) / k[1, 1] * z, z])
    world = frame.pose[:3, :3] @ camera + frame.pose[:3, 3]
    pixels, _ = project_points(world[None], k, frame.pose)
    assert pixels[0] == pytest.approx([u, v], abs=1e-3)
    assert geometry.point(frame.index, world) == pytest.approx((u, v), abs=1e-3)
    hidden = frame.position + 50.0 * frame.forward  # far beyond the walls
    assert geometry.point(frame.index, hidden) is None
    geometry.close()


def test_coordinates_round_trip_in_both_modes() -> None:
    box = [12.0, 30.0, 40.0, 60.0]
    assert to_coordinates(box, 64, 64, "pixels") == [12, 30, 40, 60]
    norm = to_coordinates(box, 64, 64, "norm1000")
    assert norm == [188, 469, 625, 938]
    assert from_coordinates(norm, 64, 64, "norm1000") == pytest.approx(box, abs=0.1)
    with pytest.raises(ValueError, match="coordinate mode"):
        to_coordinates(box, 64, 64, "relative")  # type: ignore[arg-type]


def frames(count: int = 2) -> list[Image.Image]:
    return [Image.new("RGB", (64, 48), (40 * i, 90, 90)) for i in range(count)]


def test_a_call_appends_a_copy_and_names_its_index() -> None:
    board = DrawingBoard(frames(2))
    out = board.object_mapper(1, [{"bbox_2d": [4, 4, 30, 30], "label": "chair"}])
    assert out.index == 3 and len(board.images) == 3
    assert out.text == "The index of the given image is 3 (width: 64, height: 48)"
    assert np.asarray(board.images[0]).tolist() == np.asarray(frames(2)[0]).tolist()
    assert np.asarray(out.image).tolist() != np.asarray(board.images[0]).tolist()
    assert board.annotations[2].boxes == {"chair": [4.0, 4.0, 30.0, 30.0]}


def test_same_label_replaces_and_other_kinds_are_kept() -> None:
    board = DrawingBoard(frames(1))
    board.object_mapper(1, [{"bbox_2d": [4, 4, 30, 30], "label": "chair"}])
    board.path_tracer(2, [{"start_point_2d": [1, 1], "end_point_2d": [20, 20], "label": "facing"}])
    out = board.object_mapper(
        3,
        [
            {"bbox_2d": [10, 10, 40, 40], "label": "chair"},
            {"bbox_2d": [0, 0, 5, 5], "label": "lamp"},
        ],
    )
    last = board.annotations[out.index - 1]
    assert last.boxes == {"chair": [10.0, 10.0, 40.0, 40.0], "lamp": [0.0, 0.0, 5.0, 5.0]}
    assert "facing" in last.lines
    assert board.reflections == 1  # the chair moved
    # the redraw starts from the clean source: the old chair outline is gone
    redrawn = DrawingBoard(frames(1))
    redrawn.object_mapper(1, [{"bbox_2d": [0, 0, 5, 5], "label": "lamp"}])
    fresh = redrawn.object_mapper(2, [{"bbox_2d": [10, 10, 40, 40], "label": "chair"}])
    fresh_lines = DrawingBoard(frames(1))
    fresh_lines.path_tracer(
        1, [{"start_point_2d": [1, 1], "end_point_2d": [20, 20], "label": "facing"}]
    )
    assert np.asarray(out.image)[4, 20].tolist() == np.asarray(fresh.image)[4, 20].tolist()


def test_bad_calls_raise_readable_errors_and_change_nothing() -> None:
    board = DrawingBoard(frames(1), max_images=3)
    with pytest.raises(DrawingError, match=r"numbered 1\.\.1"):
        board.object_mapper(5, [{"bbox_2d": [1, 1, 2, 2], "label": "a"}])
    with pytest.raises(DrawingError, match="4 numbers"):
        board.object_mapper(1, [{"bbox_2d": [1, 1, 2], "label": "a"}])
    with pytest.raises(DrawingError, match="label"):
        board.path_tracer(1, [{"start_point_2d": [1, 1], "end_point_2d": [2, 2]}])
    assert len(board.images) == 1 and board.failures == 3
    board.object_mapper(1, [{"bbox_2d": [1, 1, 2, 2], "label": "a"}])
    board.object_mapper(1, [{"bbox_2d": [1, 1, 2, 2], "label": "a"}])
    with pytest.raises(DrawingError, match="limit"):
        board.object_mapper(1, [{"bbox_2d": [1, 1, 2, 2], "label": "a"}])


def test_norm1000_boxes_are_stored_in_pixels() -> None:
    board = DrawingBoard(frames(1), coordinates="norm1000")
    board.object_mapper(1, [{"bbox_2d": [0, 0, 500, 1000], "label": "bed"}])
    assert board.annotations[1].boxes["bed"] == [0.0, 0.0, 32.0, 48.0]
