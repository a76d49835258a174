"""Fixtures for the training tests: a tiny solver, two small scenes with frames, samples."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agents.records import Proposal, Sample
from agents.solver.tiny import build_tiny_solver
from scenes.noise import write_noise_scene

FRAME_SIZE = 64


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
    for scene_id, num_frames, seed in [("room-a", 6, 1), ("room-b", 5, 2)]:
        write_noise_scene(
            root / scene_id, scene_id, num_frames=num_frames, width=96, height=80, seed=seed
        )
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
