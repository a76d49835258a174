"""GRPO on the tiny solver on CPU: steps that change the weights, and the two-stage recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from agents.records import Sample
from training import rewards
from training.config import GRPOSettings, SFTSettings
from training.grpo import vision_token_ids
from training.iterations import SolverTrainer
from training.recipes import TwoStageRecipe


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


def length_reward(completions: list[Any], **kwargs: Any) -> list[float]:
    """A dense signal a random model already varies on (its completions differ in length)."""
    return [len(rewards.completion_text(c)) / 40 for c in completions]


def test_two_grpo_steps_change_the_weights_and_carry_over(
    tiny_dir: Path,
    samples: list[Sample],
    scene_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(rewards.REWARDS, "length", length_reward)
    settings = GRPOSettings.tiny(
        model=str(tiny_dir), rewards=["accuracy", "gated_format", "length"]
    )
    trainer = SolverTrainer(settings, tmp_path)
    first = trainer.train_iteration(samples, scene_root, 0)
    assert (first.stage, first.global_step, len(first.rewards)) == ("grpo", 2, 2)
    assert max_difference(weights(tiny_dir), weights(first.checkpoint_dir)) > 1e-4
    second = trainer.train_iteration(samples, scene_root, 1)
    assert (second.start_step, second.global_step) == (2, 4)
    state = torch.load(second.checkpoint_dir / "optimizer.pt", weights_only=False)["state"]
    assert {float(s["step"]) for s in state.values()} == {4.0}


def test_rollouts_never_sample_vision_tokens(tiny_dir: Path) -> None:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(tiny_dir)
    ids = vision_token_ids(type("M", (), {"config": config})())
    assert set(ids) == {
        config.image_token_id,
        config.video_token_id,
        config.vision_start_token_id,
        config.vision_end_token_id,
    }


@pytest.mark.slow
def test_sft_then_grpo_with_the_real_rewards(
    tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    """Actial-style: SFT teaches the answers on a repeated small set; GRPO then starts from
    those weights, and its accuracy reward (VSI-Bench scoring) varies enough to train."""
    recipe = TwoStageRecipe(
        sft=SFTSettings.tiny(model=str(tiny_dir), steps_per_iteration=8, learning_rate=3e-3),
        grpo=GRPOSettings.tiny(answer_format="plain", rewards=["accuracy"], learning_rate=1e-3),
    )
    sft = recipe.train_iteration(samples, scene_root, 0, tmp_path)
    assert sft.stage == "sft" and sft.losses[-1] < 0.3 * sft.losses[0], sft.losses
    grpo = recipe.train_iteration(samples, scene_root, 1, tmp_path)
    assert grpo.stage == "grpo" and grpo.start_step == 0 and grpo.global_step == 2
    assert max(grpo.rewards) > 0  # the fine-tuned solver answers some rollouts right
    assert max_difference(weights(sft.checkpoint_dir), weights(grpo.checkpoint_dir)) > 1e-5
