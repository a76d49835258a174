"""Fixtures for the solver tests: tiny models built from configs, tiny scenes with frames."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, PreTrainedModel, ProcessorMixin

from agents.solver.config import SolverConfig
from agents.solver.solver import Solver
from agents.solver.tiny import build_tiny_solver
from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject

TINY_FRAME_SIZE = 64


@pytest.fixture(scope="session")
def tiny_solver_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen3-VL solver written with save_pretrained (built once per session)."""
    return build_tiny_solver(tmp_path_factory.mktemp("tiny-qwen3-vl"), seed=0)


@pytest.fixture(scope="session")
def tiny_qwen25_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_solver(
        tmp_path_factory.mktemp("tiny-qwen2.5-vl"), seed=0, family="qwen2_5_vl"
    )


@pytest.fixture(scope="session")
def tiny_model(tiny_solver_dir: Path) -> tuple[PreTrainedModel, ProcessorMixin]:
    """The tiny model loaded back the way a real checkpoint loads (float32, CPU)."""
    model = AutoModelForImageTextToText.from_pretrained(tiny_solver_dir, attn_implementation="sdpa")
    return model.eval(), AutoProcessor.from_pretrained(tiny_solver_dir)


@pytest.fixture
def make_solver(
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
) -> Callable[..., Solver]:
    """Solvers over the shared tiny model with config overrides (the model is never modified)."""
    base = SolverConfig(model="tiny", device="cpu", frame_size=TINY_FRAME_SIZE, batch_size=3)

    def make(**overrides: object) -> Solver:
        model, processor = tiny_model
        return Solver(dataclasses.replace(base, **overrides), model, processor)

    return make


def _random_frames(seed: int, count: int, size: int = TINY_FRAME_SIZE) -> list[Image.Image]:
    """Distinct noisy RGB frames, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(count)
    ]


def _write_scene(scene_dir: Path, scene_id: str, num_frames: int, seed: int = 0) -> Scene:
    """A small procedural-looking scene with PNG frames at frames/{i:04d}.png."""
    (scene_dir / "frames").mkdir(parents=True, exist_ok=True)
    intrinsics = CameraIntrinsics(width=96, height=80, fx=80.0, fy=80.0, cx=48.0, cy=40.0)
    frames = []
    for i, image in enumerate(_random_frames(seed, num_frames, size=96)):
        relative = f"frames/{i:04d}.png"
        image.resize((96, 80)).save(scene_dir / relative)
        pose = (
            (1.0, 0.0, 0.0, 0.1 * i),
            (0.0, 1.0, 0.0, 0.0),
            (0.0, 0.0, 1.0, 1.5),
            (0.0, 0.0, 0.0, 1.0),
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


@pytest.fixture(scope="session")
def tiny_scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scene_dir = tmp_path_factory.mktemp("scenes") / "room-0001"
    _write_scene(scene_dir, "room-0001", num_frames=7)
    return scene_dir


@pytest.fixture(scope="session")
def frames_of() -> Callable[[int, int], list[Image.Image]]:
    """`frames_of(seed, count)`: distinct 64x64 noise frames, reproducible from the seed."""
    return _random_frames
