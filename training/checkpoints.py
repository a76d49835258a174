"""The run directory: one folder per stage and iteration, resumable at every checkpoint.

    run_dir/
      sft/iteration-000/checkpoint-100/   model, processor, optimizer.pt, scheduler.pt,
                                          trainer_state.json, rng_state.pth,
                                          confidences.json (SFT: recorded so far)
      sft/iteration-000/start.json        global step and checkpoint this iteration began from
      sft/iteration-000/result.json       the TrainResult, written when the iteration ends
      sft/iteration-001/checkpoint-200/   ...
      grpo/iteration-000/...

An iteration continues from the previous iteration's last checkpoint: weights, optimizer
and scheduler state and the global step carry over, and the new samples are read from
their start. An iteration interrupted midway resumes from its own latest checkpoint and
skips the batches it already trained on, so it ends exactly where it would have.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.io import atomic_write_text

RESULT_FILE = "result.json"
START_FILE = "start.json"
TRAINER_STATE_FILE = "trainer_state.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


@dataclass
class TrainResult:
    """What one training iteration produced, and where the next one starts from."""

    stage: str
    iteration: int
    checkpoint_dir: Path = field(metadata={"help": "Trainer checkpoint (resume point)."})
    model_dir: Path = field(
        metadata={"help": "Loads with from_pretrained (the checkpoint, or merged LoRA weights)."}
    )
    global_step: int = field(metadata={"help": "Optimizer steps since the run began."})
    start_step: int = field(metadata={"help": "Global step when this iteration began."})
    num_samples: int = 0
    losses: list[float] = field(default_factory=list, metadata={"help": "Logged loss per step."})
    rewards: list[float] = field(
        default_factory=list, metadata={"help": "GRPO: mean reward per logged step."}
    )
    per_sample_confidence: dict[str, float] = field(
        default_factory=dict,
        metadata={"help": "Sample id -> confidence from its first training forward pass (SFT)."},
    )

    def save(self, folder: Path) -> Path:
        data = asdict(self)
        data["checkpoint_dir"] = str(self.checkpoint_dir)
        data["model_dir"] = str(self.model_dir)
        path = Path(folder) / RESULT_FILE
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> TrainResult:
        data = json.loads((Path(folder) / RESULT_FILE).read_text(encoding="utf-8"))
        data["checkpoint_dir"] = Path(data["checkpoint_dir"])
        data["model_dir"] = Path(data["model_dir"])
        return cls(**data)


def iteration_dir(run_dir: Path, stage: str, iteration: int) -> Path:
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")
    return Path(run_dir) / stage / f"iteration-{iteration:03d}"


def checkpoints_in(folder: Path) -> list[Path]:
    """Complete trainer checkpoints in `folder` (those with a trainer state), by step."""
    found = []
    for path in Path(folder).glob("checkpoint-*"):
        match = _CHECKPOINT.match(path.name)
        if match and (path / TRAINER_STATE_FILE).is_file():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def latest_checkpoint(folder: Path) -> Path | None:
    checkpoints = checkpoints_in(folder)
    return checkpoints[-1] if checkpoints else None


def checkpoint_step(checkpoint: Path) -> int:
    state = json.loads((Path(checkpoint) / TRAINER_STATE_FILE).read_text(encoding="utf-8"))
    return int(state["global_step"])


def completed_result(run_dir: Path, stage: str, iteration: int) -> TrainResult | None:
    folder = iteration_dir(run_dir, stage, iteration)
    return TrainResult.load(folder) if (folder / RESULT_FILE).is_file() else None


def previous_result(run_dir: Path, stage: str, iteration: int) -> TrainResult | None:
    """The latest completed iteration before `iteration` (iterations may be skipped)."""
    for earlier in range(iteration - 1, -1, -1):
        result = completed_result(run_dir, stage, earlier)
        if result is not None:
            return result
    return None


@dataclass(frozen=True)
class ResumePlan:
    """Where an iteration's weights, optimizer state and step counter come from."""

    start_step: int
    resume_from: Path | None  # checkpoint whose optimizer/scheduler/state are loaded
    skip_seen_batches: bool  # True when resuming the same iteration's data midway
    weights_from: str  # folder or hub id the model is built from before resuming

    def as_json(self) -> dict[str, Any]:
        return {
            "start_step": self.start_step,
            "resume_from": str(self.resume_from) if self.resume_from else None,
            "weights_from": self.weights_from,
        }


def plan_iteration(
    run_dir: Path, stage: str, iteration: int, base_model: str, lora: bool = False
) -> ResumePlan:
    """How iteration `iteration` starts: fresh, after the previous one, or midway through itself.

    With LoRA the model is always built from `base_model` and the adapters come from the
    checkpoint; otherwise the full weights are read from the checkpoint.
    """
    folder = iteration_dir(run_dir, stage, iteration)
    own = latest_checkpoint(folder)
    if own is not None and (folder / START_FILE).is_file():
        start = json.loads((folder / START_FILE).read_text(encoding="utf-8"))
        weights = base_model if lora else str(own)
        return ResumePlan(int(start["start_step"]), own, True, weights)
    previous = previous_result(run_dir, stage, iteration)
    if previous is not None:
        weights = base_model if lora else str(previous.checkpoint_dir)
        return ResumePlan(previous.global_step, previous.checkpoint_dir, False, weights)
    if not base_model:
        raise ValueError(
            f"no checkpoint to continue from in {Path(run_dir) / stage} and no starting model; set "
            "the settings' model to a checkpoint folder or hub id"
        )
    return ResumePlan(0, None, False, base_model)


def write_start(folder: Path, plan: ResumePlan) -> None:
    """Record how the iteration began, so a resume midway knows its target step."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / START_FILE).is_file():
        atomic_write_text(folder / START_FILE, json.dumps(plan.as_json(), indent=1) + "\n")
