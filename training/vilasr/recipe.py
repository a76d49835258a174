"""The ``vilasr`` recipe: cold start -> reflective rejection sampling -> tool GRPO, one stage per loop iteration.

Same interface as ``TwoStageRecipe.train_iteration(samples, scenes, iteration, run_dir)``.
Each stage has its own data source, all derived from the iteration's verified samples:

- cold start (iterations < ``cold_start_iterations``): trajectories *written* from exact
  ground truth (``cold_start.py``), filtered as ViLaSR does, multi-turn SFT;
- RRS (the next ``rrs_iterations``): trajectories *sampled* from the current model, kept when
  correct and reflective, SFT continues on them (when none is kept, the model carries over
  unchanged and the result says so with ``num_samples == 0``);
- GRPO (afterwards): the samples as prompts, rollouts drawing with the tools.

Every iteration starts from the model the previous iteration left (whatever its stage).
Results go to ``run_dir/vilasr_<stage>/iteration-NNN/result.json`` (a ``TrainResult``, with
the trainer's log beside it in ``metrics.json``: tool-call rate, each reward's mean); a
finished iteration returns its stored result. The loop's confidence is the final answer's
(recorded by the SFT stages on their first forward pass).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from agents.records import Sample
from common.errors import UserError
from common.io import atomic_write_text
from common.settings import check_recipe_settings
from training.checkpoints import TrainResult, completed_result, iteration_dir
from training.data import SceneSource, load_samples
from training.vilasr.cold_start import ColdStartSettings, build_cold_start
from training.vilasr.grpo import ToolGRPOSettings, train_tool_grpo
from training.vilasr.rrs import RRSSettings, sample_reflective
from training.vilasr.sft import MultiTurnSFTSettings, StageOutcome, train_multi_turn_sft

METRICS_FILE = "metrics.json"
STAGE_SETTINGS: dict[str, type] = {
    "cold_start": ColdStartSettings,
    "cold_start_sft": MultiTurnSFTSettings,
    "rrs": RRSSettings,
    "rrs_sft": MultiTurnSFTSettings,
    "grpo": ToolGRPOSettings,
}
#: CPU sizes for the tiny model: short stages, few rollouts, short turns.
TINY_PRESETS: dict[str, dict[str, Any]] = {
    "cold_start_sft": {"max_steps": 20, "learning_rate": 1e-3},
    "rrs": {"samples_per_question": 2, "max_turns": 4, "max_new_tokens": 160},
    "rrs_sft": {"max_steps": 4, "learning_rate": 1e-3, "freeze_projector": False},
    "grpo": {
        "num_generations": 2,
        "max_turns": 4,
        "max_completion_length": 800,
        "learning_rate": 1e-4,
    },
}
STAGES: tuple[str, ...] = ("vilasr_cold_start", "vilasr_rrs", "vilasr_grpo")


@dataclass
class VilasrRecipe:
    """ViLaSR's three training stages over loop iterations."""

    model: str = field(metadata={"help": "Starting checkpoint (folder or hub id)."})
    cold_start: ColdStartSettings = field(default_factory=ColdStartSettings)
    cold_start_sft: MultiTurnSFTSettings = field(default_factory=MultiTurnSFTSettings)
    rrs: RRSSettings = field(default_factory=RRSSettings)
    rrs_sft: MultiTurnSFTSettings = field(
        default_factory=lambda: MultiTurnSFTSettings(freeze_projector=False)
    )
    grpo: ToolGRPOSettings = field(default_factory=ToolGRPOSettings)
    cold_start_iterations: int = field(default=1, metadata={"help": "Loop iterations of stage 1."})
    rrs_iterations: int = field(default=1, metadata={"help": "Loop iterations of stage 2."})

    SETTINGS: ClassVar[dict[str, str]] = {
        **{name: f"{cls.__name__} overrides" for name, cls in STAGE_SETTINGS.items()},
        "cold_start_iterations": "loop iterations of stage 1 (1)",
        "rrs_iterations": "loop iterations of stage 2 (1)",
        "coordinates": "the coordinate convention of every stage",
    }
    USES_METHOD: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.cold_start_iterations < 1:
            raise ValueError("cold_start_iterations must be >= 1 (the cold start comes first)")
        if self.rrs_iterations < 0:
            raise ValueError("rrs_iterations must be >= 0")

    @classmethod
    def from_config(cls, context: Any) -> VilasrRecipe:
        """From the loop's recipe context (``training.recipes.RecipeContext``).

        Reads ``context.model``, ``context.tiny``, the solver's ``frame_size`` / ``num_frames``
        from ``context.settings`` and, from ``training.recipe_settings``, one dict per stage
        (``cold_start``, ``cold_start_sft``, ``rrs``, ``rrs_sft``, ``grpo``) plus
        ``cold_start_iterations`` / ``rrs_iterations`` and ``coordinates`` (every stage).
        ``tiny`` uses the CPU sizes.
        """
        frames = {
            key: context.settings[key]
            for key in ("frame_size", "num_frames")
            if key in (context.settings or {})
        }
        check_recipe_settings(context.recipe_settings or {}, "vilasr", cls.SETTINGS)
        given = dict(context.recipe_settings or {})
        if "coordinates" in given:  # one convention for every stage
            frames["coordinates"] = given.pop("coordinates")
        presets = TINY_PRESETS if context.tiny else {}
        parts: dict[str, Any] = {}
        for name, settings_class in STAGE_SETTINGS.items():
            values = {**presets.get(name, {}), **dict(given.pop(name, None) or {})}
            names = {f.name for f in fields(settings_class)}
            values.update({k: v for k, v in frames.items() if k in names})
            try:
                parts[name] = settings_class(**values)
            except (TypeError, ValueError) as error:
                raise UserError(
                    f"invalid configuration at 'training.recipe_settings.{name}': {error}"
                ) from error
        try:
            return cls(model=context.model, **parts, **given)
        except (TypeError, ValueError) as error:
            raise UserError(
                f"invalid configuration at 'training.recipe_settings': {error}"
            ) from error

    def stage_of(self, iteration: int) -> str:
        if iteration < self.cold_start_iterations:
            return "vilasr_cold_start"
        if iteration < self.cold_start_iterations + self.rrs_iterations:
            return "vilasr_rrs"
        return "vilasr_grpo"

    def starting_model(self, run_dir: Path, iteration: int) -> tuple[str, int]:
        """The model the previous iteration left, and the global step so far."""
        for earlier in range(iteration - 1, -1, -1):
            for stage in STAGES:
                result = completed_result(run_dir, stage, earlier)
                if result is not None:
                    return str(result.model_dir), result.global_step
        return self.model, 0

    def train_iteration(
        self,
        samples: Iterable[Sample] | str | Path,
        scenes: SceneSource,
        iteration: int,
        run_dir: str | Path,
    ) -> TrainResult:
        """Train one loop iteration with the stage it falls in; the result names the stage."""
        run_dir = Path(run_dir)
        stage = self.stage_of(iteration)
        done = completed_result(run_dir, stage, iteration)
        if done is not None:
            return done
        folder = iteration_dir(run_dir, stage, iteration)
        model_from, step = self.starting_model(run_dir, iteration)
        chosen = [
            s
            for s in load_samples(samples)
            if s.ground_truth is not None and s.verdict == "accepted"
        ]
        if not chosen:
            raise ValueError(
                f"iteration {iteration} ({stage}): no accepted sample with a ground truth to train on"
            )
        outcome, steps = self._run(stage, chosen, scenes, model_from, folder)
        result = TrainResult(
            stage=stage,
            iteration=iteration,
            checkpoint_dir=outcome.model_dir,
            model_dir=outcome.model_dir,
            global_step=step + steps,
            start_step=step,
            num_samples=outcome.num_samples,
            losses=outcome.losses,
            rewards=[float(e["reward"]) for e in outcome.metrics if "reward" in e],
            per_sample_confidence=outcome.confidences,
        )
        atomic_write_text(folder / METRICS_FILE, json.dumps(outcome.metrics, indent=1) + "\n")
        result.save(folder)
        return result

    def _run(
        self, stage: str, samples: list[Sample], scenes: SceneSource, model_from: str, folder: Path
    ) -> tuple[StageOutcome, int]:
        if stage == "vilasr_cold_start":
            written, _ = build_cold_start(samples, scenes, folder / "trajectories", self.cold_start)
            if not written:
                raise ValueError(
                    f"no cold-start trajectory passed the filter for {len(samples)} samples; they "
                    "need objects to draw (see docs/vilasr.md for the tasks that plan drawings)"
                )
            settings = self.cold_start_sft
            return train_multi_turn_sft(settings, written, model_from, folder), settings.max_steps
        if stage == "vilasr_rrs":
            sampled = sample_reflective(
                model_from, samples, scenes, folder / "trajectories", self.rrs
            )
            if not sampled.kept:
                return StageOutcome(Path(model_from), [], {}, 0), 0
            settings = self.rrs_sft
            return train_multi_turn_sft(
                settings, sampled.kept, model_from, folder
            ), settings.max_steps
        outcome = train_tool_grpo(self.grpo, samples, scenes, model_from, folder)
        return outcome, self.grpo.max_steps
