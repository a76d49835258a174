"""Training in a subprocess under `accelerate launch`, for multi-GPU runs of the loop.

The loop itself stays one process (proposing, verifying and scoring need no GPU
fan-out); only the train node hands its iteration to `python -m training` on N processes
and reads the stored result back, so resume and carry-over work exactly as in-process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import yaml

import training.accelerate
from common.errors import UserError
from training.checkpoints import TrainResult, completed_result
from training.config import GRPOSettings, SFTSettings

ACCELERATE_CONFIGS = Path(training.accelerate.__file__).resolve().parent


def accelerate_config_path(name: str) -> Path:
    """'ddp' / 'zero3' (the shipped configs) or a path to the user's own YAML."""
    shipped = {"ddp": "ddp.yaml", "zero3": "deepspeed_zero3.yaml"}
    path = ACCELERATE_CONFIGS / shipped[name] if name in shipped else Path(name)
    if not path.is_file():
        raise UserError(
            f"training.accelerate_config: {path} not found; use ddp, zero3 or a YAML path"
        )
    return path


def accelerate_command(
    settings: SFTSettings | GRPOSettings,
    settings_file: Path,
    samples: Path,
    scenes: Path,
    run_dir: Path,
    iteration: int,
    config_name: str,
    num_processes: int,
) -> list[str]:
    return [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(accelerate_config_path(config_name)),
        "--num_processes", str(num_processes),
        "-m", "training",
        "--method", settings.method,
        "--settings", str(settings_file),
        "--samples", str(samples),
        "--scenes", str(scenes),
        "--run-dir", str(run_dir),
        "--iteration", str(iteration),
    ]  # fmt: skip


def train_with_accelerate(
    settings: SFTSettings | GRPOSettings,
    samples: Path,
    scenes: Path,
    run_dir: Path,
    iteration: int,
    config_name: str = "ddp",
    num_processes: int = 1,
) -> TrainResult:
    done = completed_result(run_dir, settings.method, iteration)
    if done is not None:
        return done
    values = {k: v for k, v in asdict(settings).items() if k != "method"}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(values, handle)
        settings_file = Path(handle.name)
    command = accelerate_command(
        settings, settings_file, samples, scenes, run_dir, iteration, config_name, num_processes
    )
    try:
        finished = subprocess.run(command, check=False)
    finally:
        settings_file.unlink(missing_ok=True)
    result = completed_result(run_dir, settings.method, iteration)
    if finished.returncode != 0 or result is None:
        raise UserError(
            f"training iteration {iteration} under accelerate failed (exit {finished.returncode}); "
            f"see the log above; resume with 'ouroboros run --resume' once fixed. Command: {' '.join(command)}"
        )
    return result
