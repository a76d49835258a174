"""ARKitScenes 3D object detection annotations (``<video_id>_3dod_annotation.json``).

The file's ``data[]`` lists boxes: ``label``, ``uid`` and
``segments.obbAligned`` with ``centroid``, ``axesLengths`` and ``normalizedAxes``
(9 numbers, row-major; as in the official ``compute_box_3d``, corners are
``normalizedAxes.T @ local``, so its ROWS are the box axes). World: +z up, metres.

- Vocabulary: the 17 classes of the official 3DOD benchmark (``taxonomy.py``); a label
  is lower-cased and normalised as the official code does (spaces, '-' and '/' become
  '_'); any other label is an unknown category. Categories are stored with spaces
  (``tv_monitor`` -> ``tv monitor``).
- Instance ids are 1..N in the order of ``data[]``; ``uid`` must be unique.
- Room: from ``<video_id>_3dod_mesh.ply`` beside the annotation when present (mesh
  footprint and z range, as for ScanNet); otherwise the convex hull of the boxes in xy,
  floor at the lowest box bottom, height up to the highest box top.
- Frames are not imported (only boxes and the room).
"""

from __future__ import annotations

from pathlib import Path

from scenes.errors import SceneDataError
from scenes.loaders.base import LoadedScene, build_scene
from scenes.loaders.fields import Field, read_json
from scenes.loaders.geometry import boxes_outline, floor_outline, obb_box, read_mesh_vertices
from scenes.schema import OrientedBox, Room, Scene, SceneObject

ANNOTATION_SUFFIX = "_3dod_annotation.json"
MESH_SUFFIX = "_3dod_mesh.ply"
CLASS_NAMES = (
    "cabinet",
    "refrigerator",
    "shelf",
    "stove",
    "bed",
    "sink",
    "washer",
    "toilet",
    "bathtub",
    "oven",
    "dishwasher",
    "fireplace",
    "stool",
    "chair",
    "table",
    "tv_monitor",
    "sofa",
)


def load_arkitscenes(src: Path) -> list[LoadedScene]:
    """Scenes from an annotation file, a video folder, or a folder of video folders."""
    if src.is_file():
        annotations = [src]
    else:
        annotations = sorted(src.glob(f"*{ANNOTATION_SUFFIX}")) or sorted(
            src.glob(f"*/*{ANNOTATION_SUFFIX}")
        )
    if not annotations:
        raise SceneDataError(
            src,
            "<file>",
            f"no *{ANNOTATION_SUFFIX} found",
            "pass an ARKitScenes 3dod annotation file or the video folder holding it",
        )
    return [LoadedScene(scene=_scene(path)) for path in annotations]


def normalise_label(label: str) -> str:
    """The official benchmark's label normalisation (spaces, '-' and '/' -> '_')."""
    for delimiter in (" ", "-", "/"):
        label = label.replace(delimiter, "_")
    return label


def _scene(path: Path) -> Scene:
    if not path.name.endswith(ANNOTATION_SUFFIX):
        raise SceneDataError(path, "<file name>", f"expected <video_id>{ANNOTATION_SUFFIX}")
    video_id = path.name[: -len(ANNOTATION_SUFFIX)]
    root = read_json(path)
    skipped = root.get("skipped")
    if skipped is not None and skipped.as_bool():
        skipped.fail("the annotation is marked skipped (the annotators found nothing to label)")
    entries = root["data"]
    objects: list[SceneObject] = []
    uids: set[str] = set()
    for entry in entries.as_list():
        uid = entry["uid"].as_str()
        if uid in uids:
            entry["uid"].fail(f"uid '{uid}' occurs more than once")
        uids.add(uid)
        objects.append(
            SceneObject(
                instance_id=len(objects) + 1,
                category=_category(entry["label"]),
                box=obb_box(entry["segments"]["obbAligned"]),
            )
        )
    if not objects:
        entries.fail("the room has no objects")
    room, room_rule = _room(path, video_id, [obj.box for obj in objects], entries)
    return build_scene(
        path,
        "",
        id=video_id,
        source="arkitscenes",
        room=room,
        objects=tuple(objects),
        provenance={"source_file": path.name, "room_rule": room_rule},
    )


def _category(field: Field) -> str:
    label = normalise_label(field.as_str().strip().lower())
    if label not in CLASS_NAMES:
        field.fail(
            f"unknown category '{field.value}'",
            f"ARKitScenes 3DOD classes: {', '.join(CLASS_NAMES)}",
        )
    return label.replace("_", " ")


def _room(path: Path, video_id: str, boxes: list[OrientedBox], entries: Field) -> tuple[Room, str]:
    mesh_path = path.with_name(f"{video_id}{MESH_SUFFIX}")
    if mesh_path.is_file():
        vertices = read_mesh_vertices(mesh_path)
        outline, area = floor_outline(vertices[:, :2])
        floor_z, top_z = float(vertices[:, 2].min()), float(vertices[:, 2].max())
        if area <= 0 or top_z <= floor_z:
            raise SceneDataError(mesh_path, "element vertex", "the mesh has zero floor area")
        rule = "mesh footprint on a 10 cm grid; mesh z range"
    else:
        outline, area = boxes_outline(boxes)
        floor_z = min(float(box.axis_aligned_bounds()[0][2]) for box in boxes)
        top_z = max(float(box.axis_aligned_bounds()[1][2]) for box in boxes)
        if area <= 0 or top_z <= floor_z:
            entries.fail("the boxes span zero floor area; cannot derive a room without a mesh")
        rule = "convex hull of the boxes; lowest box bottom to highest box top"
    room = Room(floor_polygon=outline, height=top_z - floor_z, area=area, floor_z=floor_z)
    return room, rule
