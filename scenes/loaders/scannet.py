"""ScanNet scene folders in their native layout.

A scene folder ``<scene>/`` holds ``<scene>_vh_clean_2.ply`` (the annotated mesh),
``<scene>_vh_clean_2.0.010000.segs.json`` (a segment id per vertex),
``<scene>.aggregation.json`` (instances as groups of segments) and ``<scene>.txt``
(``axisAlignment = m00 m01 ... m33``), optionally frames exported by ScanNet's
SensReader (see `scenes.loaders.scannet_frames`). `src` is one scene folder or a folder
of them (ScanNet's ``scans/``).

- Everything is moved into the axis-aligned frame given by ``axisAlignment``.
- Instance id = ``objectId + 1`` (0 stays free for the background).
- Labels are mapped with ``scannetv2-labels.combined.tsv`` (``raw_category`` ->
  ``category``) when that file sits in the scene folder or up to two folders above
  it; a label it lacks is an unknown category. Without it the raw label is kept.
- Groups labelled wall, floor or ceiling shape the room and are not objects.
- Boxes are yaw-only (`scenes.loaders.geometry.yaw_box`); the room outline is the mesh
  footprint (`floor_outline`); the floor is the lowest vertex, the height the z range.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from scenes.errors import SceneDataError
from scenes.loaders.base import LoadedScene, build_scene
from scenes.loaders.fields import Field, read_json
from scenes.loaders.geometry import floor_outline, read_mesh_vertices, yaw_box
from scenes.loaders.scannet_frames import read_frames
from scenes.schema import Room, SceneObject

LABEL_MAP_FILE = "scannetv2-labels.combined.tsv"
STRUCTURAL_CATEGORIES = frozenset({"wall", "floor", "ceiling"})
LAYOUT_HINT = (
    "a ScanNet scene folder <scene>/ holds <scene>_vh_clean_2.ply, <scene>.aggregation.json, "
    "<scene>_vh_clean_2.0.010000.segs.json and <scene>.txt"
)


def load_scannet(src: Path) -> list[LoadedScene]:
    """Every ScanNet scene in `src` (a scene folder, or a folder of scene folders)."""
    if src.is_file():
        raise SceneDataError(src, "<file>", "expected a folder, got a file", LAYOUT_HINT)
    children = sorted(child for child in src.iterdir() if _looks_like_scene(child))
    scene_dirs = children or [src]
    return [_load_scene(scene_dir) for scene_dir in scene_dirs]


def _looks_like_scene(folder: Path) -> bool:
    return folder.is_dir() and (folder / f"{folder.name}.aggregation.json").is_file()


def _load_scene(scene_dir: Path) -> LoadedScene:
    name = scene_dir.name
    meta_path = scene_dir / f"{name}.txt"
    meta = read_scene_meta(meta_path)
    alignment = read_axis_alignment(meta, meta_path)
    mesh_path = scene_dir / f"{name}_vh_clean_2.ply"
    if not mesh_path.is_file():
        raise SceneDataError(mesh_path, "<file>", "file not found", LAYOUT_HINT)
    vertices = _transform(read_mesh_vertices(mesh_path), alignment)
    segments = _segment_indices(scene_dir / f"{name}_vh_clean_2.0.010000.segs.json", len(vertices))
    label_map = _find_label_map(scene_dir)
    aggregation_path = scene_dir / f"{name}.aggregation.json"
    if not aggregation_path.is_file():
        raise SceneDataError(aggregation_path, "<file>", "file not found", LAYOUT_HINT)
    groups = read_json(aggregation_path)["segGroups"]
    objects = _objects(groups, vertices, segments, label_map)
    if not objects:
        groups.fail("the scene has no objects (only wall, floor or ceiling groups, or none)")
    outline, area = floor_outline(vertices[:, :2])
    if area <= 0:
        raise SceneDataError(mesh_path, "element vertex", "the mesh footprint has zero floor area")
    floor_z, top_z = float(vertices[:, 2].min()), float(vertices[:, 2].max())
    if top_z - floor_z <= 0:
        raise SceneDataError(mesh_path, "element vertex", "the mesh is flat (zero height)")
    frames, frame_files, skipped = read_frames(scene_dir, alignment, meta, meta_path)
    provenance: dict[str, str | int | float | bool | None] = {
        "source_folder": name,
        "label_map": label_map[0].name if label_map else "raw labels",
        "room_outline": "mesh footprint on a 10 cm grid",
        "height_rule": "mesh z range",
        "frames_skipped_invalid_pose": skipped,
    }
    scene = build_scene(
        aggregation_path,
        "",
        id=name,
        source="scannet",
        room=Room(floor_polygon=outline, height=top_z - floor_z, area=area, floor_z=floor_z),
        objects=tuple(objects),
        frames=tuple(frames),
        provenance=provenance,
    )
    return LoadedScene(scene=scene, frame_files=frame_files)


def read_axis_alignment(values: dict[str, str], meta_path: Path) -> np.ndarray:
    """The 4x4 ``axisAlignment`` matrix from the lines of ``<scene>.txt`` (`meta_path`)."""
    if "axisAlignment" not in values:
        raise SceneDataError(
            meta_path,
            "axisAlignment",
            "missing",
            "ScanNet test scans publish none; add 'axisAlignment = 1 0 0 0 0 1 0 0 0 0 1 0 "
            "0 0 0 1' to keep the raw frame",
        )
    try:
        numbers = [float(token) for token in values["axisAlignment"].split()]
    except ValueError as error:
        raise SceneDataError(meta_path, "axisAlignment", f"not a number ({error})") from error
    if len(numbers) != 16:
        raise SceneDataError(meta_path, "axisAlignment", f"expected 16 numbers, got {len(numbers)}")
    if not np.all(np.isfinite(numbers)):
        raise SceneDataError(meta_path, "axisAlignment", "values must be finite numbers")
    matrix = np.asarray(numbers).reshape(4, 4)
    if not np.allclose(matrix[3], [0, 0, 0, 1]):
        raise SceneDataError(meta_path, "axisAlignment", "the last row must be 0 0 0 1")
    return matrix


def read_scene_meta(meta_path: Path) -> dict[str, str]:
    """The ``key = value`` lines of a ScanNet ``<scene>.txt``."""
    if not meta_path.is_file():
        raise SceneDataError(meta_path, "<file>", "file not found", LAYOUT_HINT)
    values: dict[str, str] = {}
    for line in meta_path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def _segment_indices(path: Path, vertex_count: int) -> np.ndarray:
    field = read_json(path)["segIndices"]
    items = field.value
    if not isinstance(items, list):
        field.as_list()  # raises, naming the type it found
    for position, value in enumerate(items):
        if isinstance(value, bool) or not isinstance(value, int):
            Field(path, f"segIndices[{position}]", value).as_int()
    if len(items) != vertex_count:
        field.fail(f"has {len(items)} entries but the mesh has {vertex_count} vertices")
    return np.asarray(items, dtype=np.int64)


def _find_label_map(scene_dir: Path) -> tuple[Path, dict[str, str]] | None:
    for folder in (scene_dir, scene_dir.parent, scene_dir.parent.parent):
        path = folder / LABEL_MAP_FILE
        if path.is_file():
            return path, read_label_map(path)
    return None


def read_label_map(path: Path) -> dict[str, str]:
    """``raw_category`` -> ``category`` from ScanNet's ``scannetv2-labels.combined.tsv``."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        columns = reader.fieldnames or []
        for column in ("raw_category", "category"):
            if column not in columns:
                raise SceneDataError(path, column, "column missing from the header line")
        mapping: dict[str, str] = {}
        for row_number, row in enumerate(reader, start=2):
            raw, category = (row.get("raw_category") or "").strip(), (row.get("category") or "")
            if not raw or not category.strip():
                raise SceneDataError(path, f"line {row_number}", "empty raw_category or category")
            mapping[raw] = category.strip()
    return mapping


def _objects(
    groups: Field,
    vertices: np.ndarray,
    segments: np.ndarray,
    label_map: tuple[Path, dict[str, str]] | None,
) -> list[SceneObject]:
    objects: list[SceneObject] = []
    seen: set[int] = set()
    for group in groups.as_list():
        object_id = group["objectId"].as_int()
        if object_id < 0 or object_id in seen:
            group["objectId"].fail(f"objectId must be unique and >= 0, got {object_id}")
        seen.add(object_id)
        label = group["label"].as_str().strip()
        category = label
        if label_map is not None:
            if label not in label_map[1]:
                group["label"].fail(
                    f"unknown category '{label}': not a raw_category in {label_map[0]}",
                    "add it to the label map or fix the label",
                )
            category = label_map[1][label]
        segment_ids = [item.as_int() for item in group["segments"].as_list()]
        if category.lower() in STRUCTURAL_CATEGORIES:
            continue
        points = vertices[np.isin(segments, segment_ids)]
        if len(points) == 0:
            group["segments"].fail("none of these segment ids occurs in segIndices")
        objects.append(
            SceneObject(instance_id=object_id + 1, category=category, box=yaw_box(points))
        )
    return objects
