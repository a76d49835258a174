"""Settings: paper defaults, batch arithmetic, errors; the shipped accelerate configs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from training.accelerate import CONFIGS, config_path
from training.arguments import training_arguments
from training.checkpoints import plan_iteration
from training.config import GRPOSettings, SFTSettings


def test_sft_defaults_follow_the_paper() -> None:
    settings = SFTSettings(model="Qwen/Qwen3-VL-4B-Instruct")
    assert (settings.learning_rate, settings.lr_scheduler_type, settings.warmup_steps) == (
        1e-6,
        "constant",
        0,
    )
    assert (settings.global_batch_size, settings.steps_per_iteration) == (64, 100)
    assert settings.gradient_accumulation_steps(world_size=8) == 8
    assert settings.gradient_accumulation_steps(world_size=1) == 64
    arguments = training_arguments(settings, Path("out"), max_steps=200, skip_seen_batches=False)
    assert arguments["ignore_data_skip"] and arguments["save_steps"] == 100
    assert arguments["max_steps"] == 200 and arguments["learning_rate"] == 1e-6


def test_every_field_has_help() -> None:
    for cls in (SFTSettings, GRPOSettings):
        for field in dataclasses.fields(cls):
            if field.init:
                assert field.metadata.get("help"), f"{cls.__name__}.{field.name} has no help"


def test_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="not a multiple"):
        SFTSettings(global_batch_size=64, per_device_batch_size=3).gradient_accumulation_steps(1)
    with pytest.raises(ValueError, match="num_generations"):
        GRPOSettings(num_generations=1)
    with pytest.raises(ValueError, match="starting model"):
        plan_iteration(Path("/nonexistent-run"), "sft", 0, base_model="")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_accelerate_configs_ship_with_the_package(name: str) -> None:
    path = config_path(name)
    assert path.is_file() and path.parent.name == "accelerate"
    config = yaml.safe_load(path.read_text())
    assert config["mixed_precision"] == "bf16"
    expected = {"ddp": "MULTI_GPU", "zero3": "DEEPSPEED"}[name]
    assert config["distributed_type"] == expected
    if name == "zero3":
        assert config["deepspeed_config"]["zero_stage"] == 3
        assert config["deepspeed_config"]["zero3_save_16bit_model"] is True
