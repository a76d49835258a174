"""`python -m training` trains one iteration from a samples Parquet file and YAML settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.records import Sample
from agents.sample_io import write_samples
from training.__main__ import load_settings, main
from training.checkpoints import TrainResult, iteration_dir


def test_one_iteration_from_parquet_and_yaml(
    tiny_dir: Path,
    samples: list[Sample],
    scene_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    parquet = write_samples(samples, tmp_path / "samples.parquet")
    settings = tmp_path / "sft.yaml"
    settings.write_text("steps_per_iteration: 1\nlearning_rate: 0.002\n")
    argv = [
        "--tiny",
        "--model",
        str(tiny_dir),
        "--samples",
        str(parquet),
        "--scenes",
        str(scene_root),
    ]
    argv += ["--run-dir", str(tmp_path / "run"), "--settings", str(settings), "--set", "seed=3"]
    report = main(argv)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["global_step"] == report["global_step"] == 1
    assert TrainResult.load(iteration_dir(tmp_path / "run", "sft", 0)).num_samples == 4


def test_settings_errors_are_explained(tmp_path: Path) -> None:
    assert load_settings(
        "grpo", None, ["num_generations=4", "rewards=[accuracy]"], False
    ).rewards == ["accuracy"]
    with pytest.raises(SystemExit, match="key=value"):
        load_settings("sft", None, ["learning_rate"], False)
    with pytest.raises(SystemExit, match="misspelled"):
        load_settings("sft", None, ["learning_rat=1"], False)
