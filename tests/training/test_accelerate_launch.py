from __future__ import annotations

from pathlib import Path

import pytest

from agents.records import Sample
from agents.sample_io import write_samples
from common.errors import UserError
from graphs.launch import accelerate_command, accelerate_config_path, train_with_accelerate
from training.config import SFTSettings


def test_shipped_accelerate_configs_resolve() -> None:
    assert accelerate_config_path("ddp").name == "ddp.yaml"
    assert accelerate_config_path("zero3").name == "deepspeed_zero3.yaml"
    with pytest.raises(UserError, match="not found"):
        accelerate_config_path("/no/such.yaml")


def test_command_runs_the_training_module_on_n_processes(tmp_path: Path) -> None:
    settings = SFTSettings.tiny(model="m")
    command = accelerate_command(
        settings, tmp_path / "s.yaml", tmp_path / "t.parquet", tmp_path, tmp_path, 3, "zero3", 8
    )
    assert command[1:3] == ["-m", "accelerate.commands.launch"]
    assert command[command.index("--num_processes") + 1] == "8"
    assert command[command.index("-m", 3) + 1] == "training"
    assert command[command.index("--iteration") + 1] == "3"
    assert command[command.index("--config_file") + 1].endswith("deepspeed_zero3.yaml")


@pytest.mark.slow
def test_one_iteration_under_accelerate_launch_on_cpu(
    tmp_path: Path, tiny_dir: Path, scene_root: Path, samples: list[Sample]
) -> None:
    """A real `accelerate launch` subprocess (CPU, one process) trains and is read back."""
    model_dir, scenes_dir = tiny_dir, scene_root
    samples_path = write_samples(samples, tmp_path / "train.parquet")
    cpu_config = tmp_path / "cpu.yaml"
    cpu_config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nuse_cpu: true\nnum_processes: 1\nmixed_precision: 'no'\n"
    )
    settings = SFTSettings.tiny(model=str(model_dir), steps_per_iteration=2)
    result = train_with_accelerate(
        settings, samples_path, scenes_dir, tmp_path / "run", 0, str(cpu_config), 1
    )
    assert result.global_step == 2
    assert (result.model_dir / "config.json").exists()
    again = train_with_accelerate(
        settings, samples_path, scenes_dir, tmp_path / "run", 0, str(cpu_config), 1
    )
    assert again.global_step == 2, "a finished iteration is read back, not retrained"
