"""The vilasr recipe end to end on the tiny model: cold start -> RRS -> tool GRPO.

The cold start overfits one written trajectory (a large learning rate on purpose), so the
tiny model then really calls the drawing tools: in the solver's own loop and in TRL's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from agents.records import Sample
from agents.solver.config import SolverConfig
from agents.solver.items import SolverItem
from agents.solver.tool_solver import ToolSolver, ToolSolverConfig
from agents.solver.transcript import Transcript
from scenes.schema import Scene
from training.vilasr.cold_start import ColdStartSettings, build_cold_start
from training.vilasr.grpo import ToolGRPOSettings
from training.vilasr.recipe import VilasrRecipe
from training.vilasr.rrs import RRSSettings
from training.vilasr.sft import MultiTurnSFTSettings

pytestmark = pytest.mark.slow


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


@pytest.fixture(scope="module")
def one_sample(
    vilasr_samples: list[Sample], vilasr_scenes: Path, tmp_path_factory: pytest.TempPathFactory
) -> Sample:
    folders, _ = build_cold_start(
        vilasr_samples, vilasr_scenes, tmp_path_factory.mktemp("pick"), ColdStartSettings()
    )
    shortest = min(folders, key=lambda f: Transcript.load(f).num_turns)
    return next(s for s in vilasr_samples if s.sample_id == shortest.name)


def test_three_stages_run_and_the_model_learns_to_draw(
    one_sample: Sample, vilasr_scenes: Path, tool_tiny_dir: Path, tmp_path: Path
) -> None:
    recipe = VilasrRecipe(
        model=str(tool_tiny_dir),
        cold_start=ColdStartSettings(),
        cold_start_sft=MultiTurnSFTSettings(max_steps=50, learning_rate=6e-3),
        rrs=RRSSettings(samples_per_question=2, temperature=0.3, max_turns=6, max_new_tokens=300),
        rrs_sft=MultiTurnSFTSettings(max_steps=2, learning_rate=1e-3, freeze_projector=False),
        grpo=ToolGRPOSettings(
            max_steps=1,
            num_generations=4,
            temperature=0.85,
            max_turns=6,
            max_completion_length=1500,
            learning_rate=1e-4,
        ),
    )
    assert [recipe.stage_of(i) for i in range(4)] == [
        "vilasr_cold_start",
        "vilasr_rrs",
        "vilasr_grpo",
        "vilasr_grpo",
    ]
    run = tmp_path / "run"

    cold = recipe.train_iteration([one_sample], vilasr_scenes, 0, run)
    assert cold.stage == "vilasr_cold_start" and cold.num_samples == 1
    assert cold.losses[-1] < cold.losses[0] / 4
    assert set(cold.per_sample_confidence) == {one_sample.sample_id}  # the final answer's
    assert recipe.train_iteration([one_sample], vilasr_scenes, 0, run) == cold  # stored

    scene_dir = next(
        d for d in vilasr_scenes.iterdir() if Scene.load(d).id == one_sample.proposal.scene_id
    )
    solver = ToolSolver(
        SolverConfig(model=str(cold.model_dir), frame_size=64),
        ToolSolverConfig(max_turns=6, max_new_tokens=300, transcripts_dir=str(tmp_path / "tr")),
    )
    item = SolverItem.from_sample(one_sample, scene_dir)
    [answer] = solver.answer([item])
    transcript = Transcript.load(tmp_path / "tr" / one_sample.sample_id)
    assert transcript.tool_calls >= 2 and transcript.tool_failures == 0
    assert len(transcript.images) == transcript.num_frames + transcript.tool_calls
    assert answer.answer == one_sample.ground_truth

    rrs = recipe.train_iteration([one_sample], vilasr_scenes, 1, run)
    assert rrs.stage == "vilasr_rrs" and rrs.start_step == cold.global_step
    kept = sorted((run / "vilasr_rrs" / "iteration-001" / "trajectories").iterdir())
    assert rrs.num_samples == len(kept) <= 2

    before = weights(Path(rrs.model_dir))
    grpo = recipe.train_iteration([one_sample], vilasr_scenes, 2, run)
    [step] = [
        m
        for m in json.loads((run / "vilasr_grpo" / "iteration-002" / "metrics.json").read_text())
        if "loss" in m
    ]
    print("GRPO", step)
    assert grpo.stage == "vilasr_grpo" and step["tools/call_frequency"] > 0
    assert step["reward_std"] > 0
    after = weights(Path(grpo.model_dir))
    changed = sum(float((before[k] - after[k]).abs().sum()) for k in before)
    assert changed > 0
