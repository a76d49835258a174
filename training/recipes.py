"""Two-stage training in the style of Actial: SFT first, then GRPO from the SFT weights.

The loop calls `TwoStageRecipe.train_iteration` like `SolverTrainer.train_iteration`.
Iterations before `sft_iterations` fine-tune with SFT (carrying state among themselves);
the next one starts GRPO from the last SFT weights with a fresh optimizer (the objective
changes), and later iterations continue GRPO with its state carried over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agents.records import Sample
from training.checkpoints import TrainResult, previous_result
from training.config import GRPOSettings, SFTSettings
from training.data import SceneSource
from training.iterations import SolverTrainer


@dataclass
class TwoStageRecipe:
    """SFT for the first `sft_iterations` loop iterations, GRPO afterwards."""

    sft: SFTSettings = field(metadata={"help": "Stage 1: supervised fine-tuning."})
    grpo: GRPOSettings = field(metadata={"help": "Stage 2: GRPO with verifiable rewards."})
    sft_iterations: int = field(
        default=1, metadata={"help": "Loop iterations trained with SFT before GRPO takes over."}
    )

    def __post_init__(self) -> None:
        if self.sft_iterations < 1:
            raise ValueError("sft_iterations must be >= 1 (the SFT stage comes first)")

    def stage_of(self, iteration: int) -> str:
        return "sft" if iteration < self.sft_iterations else "grpo"

    def train_iteration(
        self,
        samples: Iterable[Sample] | str | Path,
        scenes: SceneSource,
        iteration: int,
        run_dir: str | Path,
    ) -> TrainResult:
        """Train one loop iteration with the stage it falls in; results say which stage ran."""
        run_dir = Path(run_dir)
        if self.stage_of(iteration) == "sft":
            return SolverTrainer(self.sft, run_dir).train_iteration(samples, scenes, iteration)
        start = None
        if previous_result(run_dir, "grpo", iteration) is None:
            last_sft = previous_result(run_dir, "sft", iteration)
            if last_sft is None:
                raise ValueError(
                    f"GRPO iteration {iteration} starts from the SFT stage, but {run_dir / 'sft'} "
                    f"has no finished iteration; run iterations 0..{self.sft_iterations - 1} first"
                )
            start = last_sft.model_dir
        return SolverTrainer(self.grpo, run_dir).train_iteration(
            samples, scenes, iteration, model=start
        )
