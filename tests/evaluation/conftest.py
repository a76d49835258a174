"""A tiny VSI-Bench-format fixture: rows as Parquet / JSONL / JSON plus generated mp4s.

Each video frame is a flat grey whose level encodes its index (`level = step * index`),
so tests can tell exactly which frames the sampler picked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

WIDTH, HEIGHT = 64, 48
#: scene -> (dataset folder, frame count, grey step per frame)
VIDEOS: dict[str, tuple[str, int, int]] = {
    "scene0000_00": ("scannet", 40, 6),
    "41069025": ("arkitscenes", 24, 10),
}

VSIBENCH_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("dataset", pa.string()),
        ("scene_name", pa.string()),
        ("question_type", pa.string()),
        ("question", pa.string()),
        ("ground_truth", pa.string()),
        ("options", pa.list_(pa.string())),
    ]
)

_CHOICES = ["A. chair", "B. table", "C. sofa", "D. lamp"]


def _row(index: int, scene: str, question_type: str, truth: str, mc: bool) -> dict[str, Any]:
    return {
        "id": index,
        "dataset": VIDEOS[scene][0],
        "scene_name": scene,
        "question_type": question_type,
        "question": f"Question {index} about {question_type}?",
        "ground_truth": truth,
        "options": list(_CHOICES) if mc else None,
    }


FIXTURE_ROWS: list[dict[str, Any]] = [
    _row(0, "scene0000_00", "object_counting", "3", mc=False),
    _row(1, "scene0000_00", "object_abs_distance", "1.7", mc=False),
    _row(2, "41069025", "object_size_estimation", "85", mc=False),
    _row(3, "41069025", "room_size_estimation", "21.4", mc=False),
    _row(4, "scene0000_00", "object_rel_distance", "B", mc=True),
    _row(5, "scene0000_00", "object_rel_direction_easy", "A", mc=True),
    _row(6, "41069025", "object_rel_direction_medium", "C", mc=True),
    _row(7, "41069025", "object_rel_direction_hard", "D", mc=True),
    _row(8, "scene0000_00", "route_planning", "A", mc=True),
    _row(9, "41069025", "obj_appearance_order", "B", mc=True),
    _row(10, "scene0000_00", "object_counting", "5", mc=False),
]


def write_grey_video(path: Path, num_frames: int, step: int) -> None:
    """An H.264 mp4 whose frame i is a flat grey of level step * i (lossless: crf 0)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(
            "libx264", rate=24, options={"crf": "0", "preset": "ultrafast"}
        )
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(num_frames):
            pixels = np.full((HEIGHT, WIDTH, 3), step * index, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _frame_number(image: Image.Image, step: int) -> int:
    return round(float(np.asarray(image.convert("L")).mean()) / step)


@pytest.fixture(scope="session")
def frame_number() -> Callable[[Image.Image, int], int]:
    """Which frame an image shows, read back from its grey level: f(image, step)."""
    return _frame_number


@pytest.fixture(scope="session")
def grey_video_writer() -> Callable[[Path, int, int], None]:
    """write_grey_video(path, num_frames, step), for tests that need their own video."""
    return write_grey_video


@pytest.fixture(scope="session")
def vsibench_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the unzipped release: rows files plus {dataset}/{scene}.mp4."""
    root = tmp_path_factory.mktemp("vsibench")
    for scene, (dataset, num_frames, step) in VIDEOS.items():
        write_grey_video(root / dataset / f"{scene}.mp4", num_frames, step)
    table = pa.Table.from_pylist(FIXTURE_ROWS, schema=VSIBENCH_SCHEMA)
    pq.write_table(table, root / "test-00000-of-00001.parquet")
    (root / "test.jsonl").write_text("\n".join(json.dumps(row) for row in FIXTURE_ROWS) + "\n")
    (root / "test.json").write_text(json.dumps(FIXTURE_ROWS))
    return root
