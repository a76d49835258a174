"""Fixtures for the training tests: a tiny solver, two small scenes with frames, samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from agents.records import Proposal, Sample
from agents.solver.tiny import build_tiny_solver
from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject

FRAME_SIZE = 64


def write_scene(scene_dir: Path, scene_id: str, num_frames: int, seed: int) -> Scene:
    """A small scene with noisy 96x80 PNG frames (resized to 64x64 for training)."""
    (scene_dir / "frames").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    intrinsics = CameraIntrinsics(width=96, height=80, fx=80.0, fy=80.0, cx=48.0, cy=40.0)
    frames = []
    for i in range(num_frames):
        relative = f"frames/{i:04d}.png"
        pixels = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(scene_dir / relative)
        pose = (
            (1.0, 0.0, 0.0, 0.1 * i),
            (0.0, 1.0, 0.0, 0.0),
            (0.0, 0.0, 1.0, 1.5),
            (0, 0, 0, 1.0),
        )
        frames.append(
            Frame(
                index=i,
                timestamp=i / 2,
                intrinsics=intrinsics,
                camera_to_world=pose,
                image_path=relative,
            )
        )
    scene = Scene(
        id=scene_id,
        source="procedural",
        room=Room(floor_polygon=((0, 0), (4, 0), (4, 3), (0, 3)), height=2.6, area=12.0),
        objects=(
            SceneObject(
                instance_id=1,
                category="chair",
                box=OrientedBox(center=(1, 1, 0.4), extents=(0.5, 0.5, 0.8)),
            ),
            SceneObject(
                instance_id=2,
                category="table",
                box=OrientedBox(center=(2, 2, 0.4), extents=(1.2, 0.8, 0.8)),
            ),
        ),
        frames=tuple(frames),
    )
    scene.save(scene_dir)
    return scene


def make_sample(
    scene_id: str,
    question: str,
    ground_truth: str,
    options: list[str] | None = None,
    question_type: str = "object_counting",
    verdict: str = "accepted",
    frame_indices: list[int] | None = None,
) -> Sample:
    proposal = Proposal(
        scene_id=scene_id,
        question_type=question_type,
        question=question,
        options=options or [],
        answer_kind="multiple_choice" if options else "numeric",
        program="def solve(scene):\n    return 0\n",
        frame_indices=frame_indices,
    )
    sample = Sample.from_proposal(proposal)
    return sample.model_copy(update={"ground_truth": ground_truth, "verdict": verdict})


@pytest.fixture(scope="session", autouse=True)
def one_cpu_thread() -> None:
    """The tiny model's matmuls are too small to split; two threads on a shared 2-core box
    spend 20x longer waiting for each other than computing."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen3-VL solver written with save_pretrained (built once per session)."""
    return build_tiny_solver(tmp_path_factory.mktemp("tiny-solver"), seed=0, frame_size=FRAME_SIZE)


@pytest.fixture(scope="session")
def scene_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenes")
    write_scene(root / "room-a", "room-a", num_frames=6, seed=1)
    write_scene(root / "room-b", "room-b", num_frames=5, seed=2)
    return root


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    """Four accepted samples over two scenes (choice and numeric), one rejected."""
    options = ["A. chair", "B. table", "C. lamp"]
    return [
        make_sample("room-a", "How many chair(s) are in this room?", "3"),
        make_sample(
            "room-a",
            "Which of these objects is closest to the sofa?",
            "B",
            options,
            question_type="object_rel_distance",
        ),
        make_sample(
            "room-b",
            "What is the distance between the chair and the table (in meters)?",
            "2.75",
            question_type="object_abs_distance",
            frame_indices=[0, 2, 4],
        ),
        make_sample(
            "room-b",
            "Which of the following categories appear first in the video?",
            "C",
            options,
            question_type="obj_appearance_order",
        ),
        make_sample("room-b", "How many table(s) are in this room?", "1", verdict="rejected"),
    ]
