"""Fixtures shared by the tools tests (geometry library, sandboxes). Append, don't overwrite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest


# -- geometry ------------------------------------------------------------------------------
def vsibench_room_to_scene_dict(scene_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The scene-dict shape (as ``json.loads(scene.to_json())``) of one raw VSI-Bench room.

    ``normalizedAxes`` rows are the box axes, so the schema's rotation (columns = axes) is
    its transpose. Instance ids are assigned 1, 2, ... in file order. The floor is the lowest
    box bottom, since ScanNet rooms do not sit at z = 0.
    """
    objects = []
    bottoms = []
    for category, boxes in raw["object_bbox"].items():
        for box in boxes:
            rotation = np.asarray(box["normalizedAxes"], dtype=float).reshape(3, 3).T
            objects.append(
                {
                    "instance_id": len(objects) + 1,
                    "category": category,
                    "box": {
                        "center": list(box["centroid"]),
                        "extents": list(box["axesLengths"]),
                        "rotation": rotation.tolist(),
                    },
                    "support": None,
                }
            )
            bottoms.append(box["min"][2])
    return {
        "id": scene_id,
        "source": "vsibench-meta",
        "room": {
            "floor_polygon": [],
            "height": 3.0,
            "area": raw["room_size"],
            "floor_z": min(bottoms) if bottoms else 0.0,
            "openings": [],
        },
        "objects": objects,
        "frames": [],
        "declared_counts": dict(raw["object_counts"]),
        "provenance": {},
    }


@pytest.fixture(scope="session")
def vsibench_raw(vsibench_meta_path: Path) -> dict[str, Any]:
    """The raw VSI-Bench metadata: scene name -> room record."""
    return json.loads(vsibench_meta_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vsibench_scene_dicts(vsibench_raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """All 88 real rooms as scene dicts (SceneView input)."""
    return {name: vsibench_room_to_scene_dict(name, raw) for name, raw in vsibench_raw.items()}


def _box_dict(
    instance_id: int,
    category: str,
    center: Any,
    extents: Any,
    yaw_deg: float = 0.0,
) -> dict[str, Any]:
    yaw = np.radians(yaw_deg)
    rotation = [[np.cos(yaw), -np.sin(yaw), 0.0], [np.sin(yaw), np.cos(yaw), 0.0], [0.0, 0.0, 1.0]]
    return {
        "instance_id": instance_id,
        "category": category,
        "box": {
            "center": list(map(float, center)),
            "extents": list(map(float, extents)),
            "rotation": rotation,
        },
    }


@pytest.fixture
def make_scene_dict() -> Callable[..., dict[str, Any]]:
    """Build a scene dict: ``make_scene_dict(objects=[(id, category, center, extents, yaw_deg)], ...)``."""

    def build(
        objects: list[tuple[Any, ...]] = (),
        floor_polygon: list[tuple[float, float]] | None = None,
        frames: list[dict[str, Any]] | None = None,
        declared_counts: dict[str, int] | None = None,
        source: str = "procedural",
        area: float | None = None,
    ) -> dict[str, Any]:
        polygon = (
            [[0.0, 0.0], [6.0, 0.0], [6.0, 4.0], [0.0, 4.0]]
            if floor_polygon is None
            else floor_polygon
        )
        return {
            "id": "test_scene",
            "source": source,
            "room": {
                "floor_polygon": [list(p) for p in polygon],
                "height": 2.8,
                "area": area if area is not None else 24.0,
                "floor_z": 0.0,
                "openings": [],
            },
            "objects": [_box_dict(*spec) for spec in objects],
            "frames": frames or [],
            "declared_counts": declared_counts,
            "provenance": {},
        }

    return build


def camera_frame_dict(
    index: int,
    position: Any,
    yaw_deg: float = 0.0,
    pitch_deg: float = 0.0,
    visible: dict[int, int] | None = None,
    timestamp: float | None = None,
) -> dict[str, Any]:
    """A frame dict whose camera sits at ``position`` looking along compass ``yaw_deg``
    (counter-clockwise from +x) tilted up by ``pitch_deg``; OpenCV axes, 640x480."""
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    forward = np.array([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), np.sin(pitch)])
    right = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return {
        "index": index,
        "timestamp": float(index if timestamp is None else timestamp),
        "intrinsics": {
            "width": 640,
            "height": 480,
            "fx": 500.0,
            "fy": 500.0,
            "cx": 320.0,
            "cy": 240.0,
        },
        "camera_to_world": pose.tolist(),
        "image_path": None,
        "visible": {str(k): v for k, v in (visible or {}).items()},
    }


@pytest.fixture
def make_frame_dict() -> Callable[..., dict[str, Any]]:
    """``camera_frame_dict`` as a fixture (conftest functions are not importable)."""
    return camera_frame_dict


# -- sandbox -------------------------------------------------------------------------------
SANDBOX_SECRET_VARIABLE = "OUROBOROS_SANDBOX_TEST_SECRET"
SANDBOX_SECRET_VALUE = "s3cret-4f9d2c-must-not-leak"

# A normal ground-truth program and its answer on `sandbox_scene`: the health check that
# follows every hostile program.
NORMAL_PROGRAM = """
import geometry as g

def solve(scene):
    chair = scene.objects_of("chair")[0]
    table = scene.unique("table")
    return {"distance": round(g.box_distance(chair, table), 3), "chairs": scene.count("chair")}
"""
NORMAL_ANSWER = {"distance": 1.0, "chairs": 2}


@pytest.fixture(scope="session")
def sandbox_scene() -> dict[str, Any]:
    """Two chairs and a table, axis-aligned: the chair at x=1 is 1.0 m from the table."""
    return {
        "id": "sandbox_scene",
        "source": "procedural",
        "room": {
            "floor_polygon": [[0.0, 0.0], [6.0, 0.0], [6.0, 4.0], [0.0, 4.0]],
            "height": 2.8,
            "area": 24.0,
            "floor_z": 0.0,
            "openings": [],
        },
        "objects": [
            _box_dict(1, "chair", (1.0, 1.0, 0.45), (0.5, 0.5, 0.9)),
            _box_dict(2, "chair", (5.0, 3.0, 0.45), (0.5, 0.5, 0.9)),
            _box_dict(3, "table", (3.0, 1.0, 0.375), (1.5, 0.8, 0.75)),
        ],
        "frames": [],
        "declared_counts": None,
        "provenance": {},
    }


@pytest.fixture(scope="session")
def normal_program() -> tuple[str, dict[str, Any]]:
    return NORMAL_PROGRAM, NORMAL_ANSWER


@pytest.fixture(scope="session")
def sandbox_secret() -> tuple[str, str]:
    return SANDBOX_SECRET_VARIABLE, SANDBOX_SECRET_VALUE


@pytest.fixture(scope="session")
def sandbox_pool() -> Any:
    """One warm single-worker pool (so a health check runs on the worker a hostile program
    just used), started while the host environment holds a secret."""
    from tools.sandbox import LocalSandbox

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SANDBOX_SECRET_VARIABLE, SANDBOX_SECRET_VALUE)
        pool = LocalSandbox(workers=1, max_file_size_mb=4, max_output_bytes=16384).start()
        yield pool
        pool.close()
