"""Turn any Scene into coloured triangle meshes: room shell, openings, objects.

Instance ids of the returned meshes: objects keep their own id (>= 1); the room's
structure uses negative ids (``FLOOR_ID``, ``CEILING_ID``, ``WALL_ID``, and
``DOOR_ID`` / ``WINDOW_ID`` for openings that no door or window object already
draws). Colours live in each mesh's ``visual.face_colors``.
"""

from __future__ import annotations

import functools
import math
import zlib

import numpy as np
import shapely
import trimesh
from shapely.geometry import Polygon

from scenes.render.shapes import Part, Rgb, object_parts
from scenes.schema import Opening, OrientedBox, Room, Scene

FLOOR_ID = -1
CEILING_ID = -2
WALL_ID = -3
DOOR_ID = -4
WINDOW_ID = -5

OPENING_DEPTH = {"door": 0.05, "window": 0.06}
"""How far a door or window panel stands out of its wall into the room (m)."""

_WALL_COLOURS: tuple[Rgb, ...] = (
    (0.86, 0.83, 0.76),
    (0.80, 0.82, 0.84),
    (0.76, 0.82, 0.86),
    (0.80, 0.85, 0.77),
    (0.88, 0.80, 0.72),
)
_FLOOR_COLOURS: tuple[Rgb, ...] = (
    (0.52, 0.38, 0.25),
    (0.36, 0.26, 0.18),
    (0.60, 0.60, 0.58),
    (0.66, 0.58, 0.46),
)
_CEILING_COLOUR: Rgb = (0.94, 0.94, 0.92)


@functools.cache
def _template(primitive: str) -> tuple[np.ndarray, np.ndarray]:
    """Vertices filling the unit cube [0, 1]^3 and faces of one primitive."""
    if primitive == "box":
        mesh = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    elif primitive == "cylinder":
        mesh = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=16)
    elif primitive == "cylinder_y":
        mesh = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=16)
        mesh.apply_transform(trimesh.transformations.rotation_matrix(math.pi / 2, (1, 0, 0)))
    elif primitive == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=1, radius=0.5)
    else:
        raise ValueError(f"unknown primitive {primitive!r}")
    vertices = np.asarray(mesh.vertices, dtype=float)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return (vertices - lo) / (hi - lo), np.asarray(mesh.faces, dtype=np.int64)


def _tint(instance_id: int) -> float:
    """A slight, stable brightness change per instance so neighbours can be told apart."""
    return 1.0 + 0.08 * ((zlib.crc32(str(instance_id).encode()) % 2001) / 1000.0 - 1.0)


def _mesh_from_parts(parts: list[Part], pose: np.ndarray, tint: float = 1.0) -> trimesh.Trimesh:
    vertices, faces, colours = [], [], []
    offset = 0
    for part in parts:
        unit, tri = _template(part.primitive)
        lo, hi = np.asarray(part.lo), np.asarray(part.hi)
        vertices.append(lo + unit * (hi - lo))
        faces.append(tri + offset)
        offset += len(unit)
        rgba = [min(255, round(255 * c * tint)) for c in part.colour] + [255]
        colours.append(np.tile(np.asarray(rgba, dtype=np.uint8), (len(tri), 1)))
    local = np.concatenate(vertices)
    world = local @ pose[:3, :3].T + pose[:3, 3]
    return trimesh.Trimesh(
        vertices=world,
        faces=np.concatenate(faces),
        face_colors=np.concatenate(colours),
        process=False,
    )


def box_pose(box: OrientedBox) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = box.rotation_matrix
    pose[:3, 3] = box.center
    return pose


def object_mesh(category: str, box: OrientedBox, instance_id: int = 0) -> trimesh.Trimesh:
    """The drawn geometry of one object, in world coordinates."""
    return _mesh_from_parts(object_parts(category, box.extents), box_pose(box), _tint(instance_id))


def floor_outline(scene: Scene) -> list[tuple[float, float]]:
    """The room outline, counter-clockwise; a rectangle around the objects when none is given."""
    polygon = list(scene.room.floor_polygon)
    if not polygon:
        if scene.objects:
            corners = np.concatenate([o.box.corners() for o in scene.objects])
            (x0, y0), (x1, y1) = corners[:, :2].min(axis=0) - 0.5, corners[:, :2].max(axis=0) + 0.5
        else:
            x0, y0, x1, y1 = -2.0, -2.0, 2.0, 2.0
        polygon = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if Polygon(polygon).exterior.is_ccw is False:
        polygon.reverse()
    return [(float(x), float(y)) for x, y in polygon]


def wall_frame(
    outline: list[tuple[float, float]], wall: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Start point, unit direction and length of wall ``wall`` (from vertex i to i+1)."""
    start = np.asarray(outline[wall], dtype=float)
    end = np.asarray(outline[(wall + 1) % len(outline)], dtype=float)
    length = float(np.linalg.norm(end - start))
    return start, (end - start) / max(length, 1e-12), length


def opening_box(room: Room, outline: list[tuple[float, float]], opening: Opening) -> OrientedBox:
    """The thin box a door or window panel fills, standing on its wall inside the room."""
    start, direction, _ = wall_frame(outline, opening.wall)
    inward = np.array([-direction[1], direction[0]])
    depth = OPENING_DEPTH[opening.kind]
    centre_xy = start + direction * opening.offset + inward * depth / 2
    # local +y (the panel's front) points into the room, local +x along the wall
    rotation = ((direction[0], inward[0], 0.0), (direction[1], inward[1], 0.0), (0.0, 0.0, 1.0))
    centre = (
        float(centre_xy[0]),
        float(centre_xy[1]),
        room.floor_z + opening.sill + opening.height / 2,
    )
    return OrientedBox(
        center=centre, extents=(opening.width, depth, opening.height), rotation=rotation
    )


def _palette(scene_id: str) -> tuple[Rgb, Rgb]:
    code = zlib.crc32(scene_id.encode("utf-8"))
    return _WALL_COLOURS[code % len(_WALL_COLOURS)], _FLOOR_COLOURS[
        (code // 7) % len(_FLOOR_COLOURS)
    ]


def _flat_mesh(vertices: np.ndarray, faces: np.ndarray, colour: Rgb) -> trimesh.Trimesh:
    rgba = np.asarray([round(255 * c) for c in colour] + [255], dtype=np.uint8)
    return trimesh.Trimesh(
        vertices=vertices, faces=faces, face_colors=np.tile(rgba, (len(faces), 1)), process=False
    )


def _floor_triangles(outline: list[tuple[float, float]], z: float) -> tuple[np.ndarray, np.ndarray]:
    triangles = shapely.constrained_delaunay_triangles(Polygon(outline))
    corners = [np.asarray(t.exterior.coords)[:3] for t in triangles.geoms]
    flat = np.concatenate(corners)
    vertices = np.column_stack([flat, np.full(len(flat), z)])
    return vertices, np.arange(len(flat)).reshape(-1, 3)


def room_meshes(scene: Scene) -> list[tuple[int, trimesh.Trimesh]]:
    """Floor, ceiling and walls of the room, plus openings not drawn by an object."""
    room = scene.room
    outline = floor_outline(scene)
    wall_colour, floor_colour = _palette(scene.id)
    z0, z1 = room.floor_z, room.floor_z + room.height
    floor_v, floor_f = _floor_triangles(outline, z0)
    ceiling_v = floor_v.copy()
    ceiling_v[:, 2] = z1
    wall_v, wall_f = [], []
    for i, (x, y) in enumerate(outline):
        nx, ny = outline[(i + 1) % len(outline)]
        wall_v.append([(x, y, z0), (nx, ny, z0), (nx, ny, z1), (x, y, z1)])
        wall_f.append(np.array([[0, 1, 2], [0, 2, 3]]) + 4 * i)
    meshes = [
        (FLOOR_ID, _flat_mesh(floor_v, floor_f, floor_colour)),
        (CEILING_ID, _flat_mesh(ceiling_v, floor_f[:, ::-1], _CEILING_COLOUR)),
        (WALL_ID, _flat_mesh(np.concatenate(wall_v), np.concatenate(wall_f), wall_colour)),
    ]
    if scene.room.floor_polygon:
        for opening in room.openings:
            box = opening_box(room, outline, opening)
            if not _drawn_by_object(scene, opening.kind, box):
                structure_id = DOOR_ID if opening.kind == "door" else WINDOW_ID
                meshes.append((structure_id, object_mesh(opening.kind, box)))
    return meshes


def _drawn_by_object(scene: Scene, kind: str, box: OrientedBox) -> bool:
    centre = np.asarray(box.center)
    return any(
        o.category == kind and np.linalg.norm(np.asarray(o.box.center) - centre) < 0.25
        for o in scene.objects
    )


def build_meshes(scene: Scene) -> list[tuple[int, trimesh.Trimesh]]:
    """Everything a renderer draws for ``scene``: (instance id, world-space mesh) pairs."""
    meshes = room_meshes(scene)
    for obj in scene.objects:
        meshes.append((obj.instance_id, object_mesh(obj.category, obj.box, obj.instance_id)))
    return meshes
