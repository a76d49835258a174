"""SFT across loop iterations: learning, exact carry-over, exact resume, free confidences.

All runs use the tiny solver on the CPU with fixed seeds and no dropout, so equalities
are tight. The carry-over check uses a global batch equal to the dataset (each step sees
the same batch whatever the shuffle), so two iterations of 2 steps must land exactly
where one run of 4 steps does, and a cold start from the same weights must not.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForImageTextToText, AutoProcessor

from agents.records import Sample
from agents.solver.config import SolverConfig
from agents.solver.items import SolverItem
from agents.solver.solver import Solver
from training.checkpoints import TrainResult, iteration_dir
from training.config import SFTSettings
from training.iterations import SolverTrainer
from training.modeling import load_for_training

from .conftest import FRAME_SIZE

CONFIDENCE_TOLERANCE = 1e-6


def weights(result: TrainResult) -> dict[str, torch.Tensor]:
    return load_file(str(result.checkpoint_dir / "model.safetensors"))


def optimizer_state(result: TrainResult) -> dict:
    return torch.load(result.checkpoint_dir / "optimizer.pt", weights_only=False)


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


@dataclass
class Runs:
    split: list[TrainResult]  # iteration 0 (2 steps), iteration 1 (2 steps, carried over)
    whole: TrainResult  # one iteration of 4 steps
    cold: TrainResult  # 2 steps from iteration 0's weights, fresh optimizer


@pytest.fixture(scope="module")
def runs(
    tiny_dir: Path,
    samples: list[Sample],
    scene_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Runs:
    root = tmp_path_factory.mktemp("sft-runs")
    two = SFTSettings.tiny(model=str(tiny_dir), steps_per_iteration=2)
    trainer = SolverTrainer(two, root / "split")
    split = [trainer.train_iteration(samples, scene_root, i) for i in (0, 1)]
    four = SFTSettings.tiny(model=str(tiny_dir), steps_per_iteration=4)
    whole = SolverTrainer(four, root / "whole").train_iteration(samples, scene_root, 0)
    cold = SolverTrainer(two, root / "cold").train_iteration(
        samples, scene_root, 0, model=split[0].checkpoint_dir
    )
    return Runs(split, whole, cold)


def test_training_changes_weights_and_lowers_the_loss(runs: Runs, tiny_dir: Path) -> None:
    losses = runs.whole.losses
    assert len(losses) == 4 and losses[-1] < 0.7 * losses[0], losses
    assert all(b < a for a, b in itertools.pairwise(losses)), losses
    start = load_file(str(tiny_dir / "model.safetensors"))
    assert max_difference(start, weights(runs.whole)) > 1e-3


def test_optimizer_state_and_step_carry_over_between_iterations(runs: Runs) -> None:
    first, second = runs.split
    assert (first.start_step, first.global_step) == (0, 2)
    assert (second.start_step, second.global_step) == (2, 4)
    carried, whole, cold = (optimizer_state(r)["state"] for r in (second, runs.whole, runs.cold))
    assert {float(s["step"]) for s in carried.values()} == {4.0}  # Adam's counter continues
    assert {float(s["step"]) for s in cold.values()} == {2.0}
    for key in ("exp_avg", "exp_avg_sq"):  # Adam's moments continue from iteration 0's
        for i in carried:
            torch.testing.assert_close(carried[i][key], whole[i][key], rtol=1e-5, atol=1e-9)
    assert max((cold[i]["exp_avg"] - whole[i]["exp_avg"]).abs().max().item() for i in cold) > 1e-4
    scheduler = torch.load(second.checkpoint_dir / "scheduler.pt", weights_only=False)
    assert scheduler["last_epoch"] == 4
    # two carried-over iterations land where one uninterrupted run does; a cold start does not
    assert max_difference(weights(second), weights(runs.whole)) < 1e-6
    assert max_difference(weights(runs.cold), weights(runs.whole)) > 1e-4
    assert second.losses == pytest.approx(runs.whole.losses[2:], abs=1e-5)


def test_finished_iteration_returns_its_stored_result(
    runs: Runs, tiny_dir: Path, samples: list[Sample], scene_root: Path
) -> None:
    run_dir = runs.split[1].checkpoint_dir.parents[2]
    again = SolverTrainer(SFTSettings.tiny(model=str(tiny_dir), steps_per_iteration=2), run_dir)
    assert again.train_iteration(samples, scene_root, 1) == runs.split[1]
    assert TrainResult.load(iteration_dir(run_dir, "sft", 1)) == runs.split[1]
    checkpoint = runs.split[1].checkpoint_dir
    for name in (
        "model.safetensors",
        "optimizer.pt",
        "scheduler.pt",
        "trainer_state.json",
        "rng_state.pth",
    ):
        assert (checkpoint / name).is_file(), name
    assert AutoProcessor.from_pretrained(runs.split[1].model_dir) is not None


def test_confidence_from_the_training_forward_matches_the_solver(
    runs: Runs, tiny_dir: Path, samples: list[Sample], scene_root: Path
) -> None:
    """Step 1 of the 4-step run sees every sample at the starting weights."""
    model = AutoModelForImageTextToText.from_pretrained(tiny_dir, attn_implementation="sdpa")
    solver = Solver(
        SolverConfig(model="tiny", device="cpu", frame_size=FRAME_SIZE, num_frames=4),
        model.eval(),
        AutoProcessor.from_pretrained(tiny_dir),
    )
    accepted = [s for s in samples if s.verdict == "accepted"]
    items = [
        SolverItem.from_sample(s, scene_root / s.proposal.scene_id, num_frames=4) for s in accepted
    ]
    expected = {r.sample_id: r.confidence for r in solver.confidence(items)}
    recorded = runs.whole.per_sample_confidence
    assert recorded.keys() == expected.keys()
    deviation = max(abs(recorded[k] - expected[k]) / expected[k] for k in expected)
    assert deviation < CONFIDENCE_TOLERANCE, (recorded, expected)


def test_packed_training_records_the_same_confidences(
    runs: Runs, tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    settings = SFTSettings.tiny(
        model=str(tiny_dir),
        steps_per_iteration=1,
        questions_per_sequence=4,
        global_batch_size=3,
        per_device_batch_size=3,
    )
    packed = SolverTrainer(settings, tmp_path).train_iteration(samples, scene_root, 0)
    recorded, expected = packed.per_sample_confidence, runs.whole.per_sample_confidence
    assert recorded.keys() == expected.keys()
    assert max(abs(recorded[k] - expected[k]) / expected[k] for k in expected) < 1e-5
    assert packed.losses[0] == pytest.approx(runs.whole.losses[0], rel=1e-5)


def test_an_interrupted_iteration_resumes_exactly(
    tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    settings = SFTSettings.tiny(
        model=str(tiny_dir),
        steps_per_iteration=3,
        global_batch_size=2,
        per_device_batch_size=2,
        save_steps=1,
    )
    full = SolverTrainer(settings, tmp_path / "full").train_iteration(samples, scene_root, 0)
    shutil.copytree(tmp_path / "full", tmp_path / "crashed")
    folder = iteration_dir(tmp_path / "crashed", "sft", 0)
    for name in ("checkpoint-2", "checkpoint-3"):  # crash after step 1, mid-epoch
        shutil.rmtree(folder / name)
    (folder / "result.json").unlink()
    resumed = SolverTrainer(settings, tmp_path / "crashed").train_iteration(samples, scene_root, 0)
    assert resumed.global_step == full.global_step == 3
    assert max_difference(weights(resumed), weights(full)) == 0.0
    assert resumed.losses == full.losses
    # confidences recorded before the crash come back from the checkpoint
    assert resumed.per_sample_confidence == full.per_sample_confidence


def test_frozen_vision_tower_keeps_its_weights(
    tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    settings = SFTSettings.tiny(
        model=str(tiny_dir), steps_per_iteration=2, freeze_vision_tower=True
    )
    result = SolverTrainer(settings, tmp_path).train_iteration(samples, scene_root, 0)
    start, end = load_file(str(tiny_dir / "model.safetensors")), weights(result)
    changed = {k for k in start if (start[k] - end[k]).abs().max().item() > 0}
    vision = {k for k in start if ".visual." in k}
    assert vision and not (changed & {k for k in vision if "merger" not in k})
    assert changed & {k for k in vision if "merger" in k}  # the projector still trains
    assert changed - vision  # so does the language model


def test_frozen_projector_keeps_the_whole_tower(
    tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    settings = SFTSettings.tiny(
        model=str(tiny_dir),
        steps_per_iteration=2,
        freeze_vision_tower=True,
        freeze_projector=True,
    )
    result = SolverTrainer(settings, tmp_path).train_iteration(samples, scene_root, 0)
    start, end = load_file(str(tiny_dir / "model.safetensors")), weights(result)
    changed = {k for k in start if (start[k] - end[k]).abs().max().item() > 0}
    assert not {k for k in changed if ".visual." in k}
    assert changed  # the language model trains


def test_frozen_projector_needs_a_frozen_tower(tiny_dir: Path) -> None:
    settings = SFTSettings.tiny(model=str(tiny_dir), freeze_projector=True)
    with pytest.raises(ValueError, match="freeze_vision_tower"):
        load_for_training(settings, str(tiny_dir))


def test_lora_trains_adapters_and_exports_merged_weights(
    tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    settings = SFTSettings.tiny(model=str(tiny_dir), steps_per_iteration=2, lora=True, lora_r=4)
    trainer = SolverTrainer(settings, tmp_path)
    first = trainer.train_iteration(samples, scene_root, 0)
    second = trainer.train_iteration(samples, scene_root, 1)
    assert (first.checkpoint_dir / "adapter_model.safetensors").is_file()
    assert not (first.checkpoint_dir / "model.safetensors").exists()
    assert second.global_step == 4 and second.losses[-1] < first.losses[0]
    start = load_file(str(tiny_dir / "model.safetensors"))
    merged = AutoModelForImageTextToText.from_pretrained(second.model_dir).state_dict()
    assert (
        max((start[k] - merged[k]).abs().max().item() for k in start if "q_proj.weight" in k) > 1e-5
    )
