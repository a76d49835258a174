"""VSI-Bench meta info (``*_meta_info_*.json``): per-room boxes and counts, no frames.

Decisions (docs/scenes.md explains them):
- rotation: the 9 ``normalizedAxes`` numbers are row-major and their ROWS are the box
  axes (checked against the published ``min``/``max`` on all 88 ScanNet rooms), so our
  rotation, whose columns are the axes, is the transpose;
- counts: ``declared_counts`` is ``object_counts``, because VSI-Bench's counting
  answers follow it; where it disagrees with the number of boxes the pairs are recorded
  in provenance (``count_mismatches``) and reported with one `LoaderWarning` per file;
- duplicates: a box listed twice (identical numbers, same category) becomes one object
  (counted in ``duplicate_boxes_dropped``): two objects in one place would corrupt
  distances and "closest" questions;
- room: area is the published ``room_size``; no outline is published, so the polygon
  is empty; the floor is the lowest box bottom and the height runs from there to the
  highest box top (a lower bound of the true ceiling height).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from scenes.loaders.base import LoadedScene, LoaderWarning, build_scene
from scenes.loaders.fields import Field, read_json
from scenes.loaders.geometry import obb_box
from scenes.schema import OrientedBox, Room, Scene, SceneObject


def load_vsibench_meta(src: Path) -> list[LoadedScene]:
    """One metadata-only scene per key of the meta info file `src`."""
    if src.is_dir():
        candidates = sorted(src.glob("*meta_info*.json"))
        if len(candidates) != 1:
            Field(src, "<file>", None).fail(
                f"expected one '*meta_info*.json' file in the folder, found {len(candidates)}",
                "pass the JSON file itself",
            )
        src = candidates[0]
    root = read_json(src)
    rooms = list(root.items())
    if not rooms:
        root.fail("the file lists no scenes")
    scenes: list[Scene] = []
    pairs: list[str] = []
    for scene_id, entry in rooms:
        scene, disagreeing = _scene(src, scene_id, entry)
        scenes.append(scene)
        pairs += [f"{scene_id}/{category}" for category in disagreeing]
    if pairs:
        warnings.warn(
            f"{src.name}: object_counts and the number of boxes disagree in {len(pairs)} "
            f"(scene, category) pairs; counting uses object_counts (each scene's provenance "
            f"'count_mismatches' has the numbers): {', '.join(pairs)}",
            LoaderWarning,
            stacklevel=2,
        )
    return [LoadedScene(scene=scene) for scene in scenes]


def _scene(src: Path, scene_id: str, entry: Field) -> tuple[Scene, list[str]]:
    """The scene, and the categories whose published count differs from their boxes."""
    counts = _counts(entry["object_counts"])
    boxes_by_category = entry["object_bbox"]
    objects: list[SceneObject] = []
    listed: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for key, boxes in boxes_by_category.items():
        category = _category_name(key, boxes)
        if category not in counts:
            boxes.fail(
                f"unknown category '{category}': it has boxes but no entry in object_counts",
                "every category in object_bbox must also appear in object_counts",
            )
        box_fields = boxes.as_list()
        listed[category] = len(box_fields)
        kept: list[OrientedBox] = []
        for box_field in box_fields:
            box = obb_box(box_field)
            if box in kept:  # the very same box listed twice: one object, not two
                dropped[category] = dropped.get(category, 0) + 1
                continue
            kept.append(box)
            objects.append(SceneObject(instance_id=len(objects) + 1, category=category, box=box))
    for category in counts:
        if category not in listed:
            entry["object_counts"][category].fail(
                f"unknown category '{category}': it is counted but has no boxes in object_bbox",
                "every counted category needs its boxes in object_bbox",
            )
    if not objects:
        boxes_by_category.fail("the room has no objects")
    room_size = entry["room_size"]
    area = room_size.as_float()
    if area <= 0:
        room_size.fail(f"room area must be > 0, got {area}")
    centre = entry["room_center"].as_vector(3)
    floor_z = min(obj.box.axis_aligned_bounds()[0][2] for obj in objects)
    top_z = max(obj.box.axis_aligned_bounds()[1][2] for obj in objects)
    disagreeing = sorted(c for c in counts if counts[c] != listed[c])
    mismatches = [_describe(c, counts[c], listed[c], dropped.get(c, 0)) for c in disagreeing]
    provenance: dict[str, str | int | float | bool | None] = {
        "source_file": src.name,
        "dataset": _optional_str(entry.get("dataset")),
        "video_path": _optional_str(entry.get("video_path")),
        "room_center_x": centre[0],
        "room_center_y": centre[1],
        "room_center_z": centre[2],
        "height_rule": "lowest box bottom to highest box top",
        "count_source": "object_counts",
        "count_mismatches": "; ".join(mismatches) or None,
        "duplicate_boxes_dropped": sum(dropped.values()),
    }
    scene = build_scene(
        src,
        scene_id,
        id=scene_id,
        source="vsibench-meta",
        room=Room(floor_polygon=(), height=max(top_z - floor_z, 1e-3), area=area, floor_z=floor_z),
        objects=tuple(objects),
        declared_counts=counts,
        provenance=provenance,
    )
    return scene, disagreeing


def _counts(field: Field) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key, value in field.items():
        category = _category_name(key, value)
        if category in counts:
            value.fail(f"category '{category}' is listed twice (names are case-insensitive)")
        number = value.as_int()
        if number < 0:
            value.fail(f"a count must be >= 0, got {number}")
        counts[category] = number
    return counts


def _category_name(key: str, field: Field) -> str:
    """Categories are lower case without surrounding spaces, as `SceneObject` stores them."""
    name = key.strip().lower()
    if not name:
        field.fail("a category name must not be empty")
    return name


def _optional_str(field: Field | None) -> str | None:
    return field.as_str() if field is not None and field.value is not None else None


def _describe(category: str, declared: int, listed: int, dropped: int) -> str:
    text = f"{category}: object_counts={declared}, boxes={listed}"
    return text + (f" ({dropped} exact duplicate(s) dropped)" if dropped else "")
