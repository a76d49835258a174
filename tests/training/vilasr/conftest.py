"""Procedural scenes, executed programmatic samples and a tool-speaking tiny solver."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.execution import execute
from agents.proposers.programmatic import ProgrammaticConfig, ProgrammaticProposer
from agents.records import Sample
from agents.solver.tool_chat import build_tiny_tool_solver
from scenes.procedural.generate import write_scene
from scenes.schema import Scene
from tools.sandbox import make_sandbox

SHOWN_FRAMES = 3


@pytest.fixture(scope="session")
def vilasr_scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vilasr-scenes")
    for seed in (1, 2):
        write_scene(seed, root / f"proc_{seed:06d}", frames=8, width=96, height=72)
    return root


@pytest.fixture(scope="session")
def vilasr_samples(vilasr_scenes: Path) -> list[Sample]:
    """Level-1 questions of every task on 3 shown frames, run through the real sandbox.

    They are marked accepted directly: the verifier is not what these tests are about.
    """
    scenes = [Scene.load(folder) for folder in sorted(vilasr_scenes.iterdir())]
    proposer = ProgrammaticProposer(ProgrammaticConfig(num_solver_frames=SHOWN_FRAMES))
    arms = {arm: 1 for arm in proposer.arms() if arm[1] == 1}
    for arm in proposer.arms():  # more of the tasks that draw lines
        if arm[1] == 2 and (
            arm[0].startswith("object_rel_direction") or arm[0] == "route_planning"
        ):
            arms[arm] = 2
    proposals = proposer.propose(scenes, arms).proposals
    with make_sandbox("local", workers=1) as sandbox:
        samples = execute(proposals, {scene.id: scene for scene in scenes}, sandbox)
    accepted = [
        sample.model_copy(update={"verdict": "accepted"})
        for sample in samples
        if sample.ground_truth is not None
    ]
    assert len(accepted) >= 8
    return accepted


@pytest.fixture(scope="session")
def tool_tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_tool_solver(tmp_path_factory.mktemp("tiny-tool"), seed=0, frame_size=64)
