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
from scenes.noise import write_noise_scene

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


@pytest.fixture(scope="session")
def tiny_scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scene_dir = tmp_path_factory.mktemp("scenes") / "room-0001"
    write_noise_scene(scene_dir, "room-0001", num_frames=7, width=96, height=80)
    return scene_dir


@pytest.fixture(scope="session")
def frames_of() -> Callable[[int, int], list[Image.Image]]:
    """`frames_of(seed, count)`: distinct 64x64 noise frames, reproducible from the seed."""
    return _random_frames
