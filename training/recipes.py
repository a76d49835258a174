"""Training recipes: what one loop iteration's training does, chosen by `training.recipe`.

A recipe has `train_iteration(samples, scenes, iteration, run_dir) -> TrainResult` and a
`from_config(context)` constructor; `RECIPES` maps names to classes, one line each:

- `single` (default, the paper's loop): `training.method` (SFT or GRPO) on the loop's
  samples every iteration, state carried over.
- `two_stage`: SFT on the loop's samples for `sft_iterations` iterations, then GRPO.
- `actial`: Actial's recipe. Before the first GRPO iteration, a viewpoint cold start
  (SFT on its own data: orbit-view questions with 10% worked reasonings,
  `training.coldstart`); then GRPO on the loop's samples (the whole task library) from
  those weights, with the `actial` reward (0.5 accuracy + 0.5 think/answer format).
- `vilasr`: ViLaSR's drawing solver: cold start on drawn trajectories, reflective
  rejection sampling, then tool GRPO (`training.vilasr`, docs/vilasr.md); pair it with
  `solver.settings.backend=vilasr`.

Adding a recipe: a class with those two methods, its `SETTINGS` (what
`training.recipe_settings` may hold) and `USES_METHOD`, and one line in `RECIPES`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from agents.records import Sample
from common.errors import UserError
from common.settings import check_recipe_settings
from training.checkpoints import TrainResult, completed_result, previous_result
from training.coldstart import ColdStartConfig
from training.config import GRPOSettings, SFTSettings
from training.vilasr.recipe import VilasrRecipe

if TYPE_CHECKING:
    from training.data import SceneSource

#: Actial's stage-1 scale (SFT: lr 5e-6, batch 128, 50 warm-up steps; 2 epochs in the data);
#: the tiny CPU settings keep their own scale.
ACTIAL_COLDSTART: dict[str, Any] = {
    "learning_rate": 5e-6,
    "global_batch_size": 128,
    "warmup_steps": 50,
    "lr_scheduler_type": "cosine",
}
#: Actial's stage-2 scale (GRPO: lr 1e-6, 16 rollouts, KL 0.01, 150 steps per iteration).
ACTIAL_GRPO: dict[str, Any] = {
    "learning_rate": 1e-6,
    "num_generations": 16,
    "beta": 0.01,
    "steps_per_iteration": 150,
}
#: Actial's stage-2 form, tiny or not: its reward, answer tags, PPO clip 0.2.
ACTIAL_GRPO_FORM: dict[str, Any] = {
    "rewards": ["actial"],
    "answer_format": "tags",
    "trainer_args": {"epsilon": 0.2},
}


@dataclass
class RecipeContext:
    """What the loop hands a recipe: the start model and the user's settings."""

    model: str = field(metadata={"help": "Starting checkpoint (folder or hub id)."})
    method: str = field(default="sft", metadata={"help": "training.method ('sft' or 'grpo')."})
    tiny: bool = field(default=False, metadata={"help": "Start from the CPU tiny settings."})
    settings: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "training.settings (every stage), with the solver's frame settings."},
    )
    recipe_settings: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "training.recipe_settings (per recipe)."}
    )

    def sft(self, section: str = "sft", **preset: Any) -> SFTSettings:
        """SFT settings; `section` names the `recipe_settings` stage that overrides them."""
        return _settings(SFTSettings, self, preset, section)

    def grpo(self, section: str = "grpo", **preset: Any) -> GRPOSettings:
        return _settings(GRPOSettings, self, preset, section)

    def check_recipe_settings(self, recipe: str, known: Mapping[str, str]) -> None:
        """A `training.recipe_settings` key the recipe does not read is a user error."""
        check_recipe_settings(self.recipe_settings, recipe, known)


def _settings(cls: type, context: RecipeContext, preset: dict[str, Any], key: str) -> Any:
    """Preset < training.settings < training.recipe_settings[key]; tiny overrides first."""
    known = {f.name for f in fields(cls) if f.init}
    anywhere = known | {f.name for c in (SFTSettings, GRPOSettings) for f in fields(c)}
    unknown = sorted(set(context.settings) - anywhere)
    if unknown:
        raise UserError(
            f"invalid configuration at 'training.settings': unknown setting(s) "
            f"{', '.join(unknown)}; see training/config.py"
        )
    common = {k: v for k, v in context.settings.items() if k in known}
    values = {**preset, **common, **dict(context.recipe_settings.get(key) or {})}
    values["model"] = context.model
    try:
        return cls.tiny(**values) if context.tiny else cls(**values)
    except (TypeError, ValueError) as error:
        raise UserError(f"invalid configuration at 'training' ({key} stage): {error}") from error


class Recipe(Protocol):
    #: What `training.recipe_settings` may hold for this recipe: name -> what it sets.
    SETTINGS: ClassVar[dict[str, str]]
    #: Whether `training.method` decides what it trains (others fix their stages' methods).
    USES_METHOD: ClassVar[bool]

    def train_iteration(
        self,
        samples: Iterable[Sample] | str | Path,
        scenes: SceneSource,
        iteration: int,
        run_dir: str | Path,
    ) -> TrainResult: ...


@dataclass
class SingleMethodRecipe:
    """The paper's loop: one method (SFT or GRPO) on the loop's samples every iteration."""

    settings: SFTSettings | GRPOSettings

    SETTINGS: ClassVar[dict[str, str]] = {
        "sft": "SFTSettings overrides, with training.method=sft",
        "grpo": "GRPOSettings overrides, with training.method=grpo",
    }
    USES_METHOD: ClassVar[bool] = True

    @classmethod
    def from_config(cls, context: RecipeContext) -> SingleMethodRecipe:
        context.check_recipe_settings("single", {context.method: cls.SETTINGS[context.method]})
        return cls(context.sft() if context.method == "sft" else context.grpo())

    def train_iteration(
        self,
        samples: Iterable[Sample] | str | Path,
        scenes: SceneSource,
        iteration: int,
        run_dir: str | Path,
    ) -> TrainResult:
        from training.iterations import SolverTrainer

        return SolverTrainer(self.settings, Path(run_dir)).train_iteration(
            samples, scenes, iteration
        )


@dataclass
class TwoStageRecipe:
    """SFT for the first `sft_iterations` loop iterations, GRPO afterwards (same samples).

    The first GRPO iteration starts from the last SFT weights with a fresh optimizer (the
    objective changes); later ones carry GRPO's state over."""

    sft: SFTSettings = field(metadata={"help": "Stage 1: supervised fine-tuning."})
    grpo: GRPOSettings = field(metadata={"help": "Stage 2: GRPO with verifiable rewards."})
    sft_iterations: int = field(
        default=1, metadata={"help": "Loop iterations trained with SFT before GRPO takes over."}
    )

    SETTINGS: ClassVar[dict[str, str]] = {
        "sft": "stage 1's SFTSettings overrides",
        "grpo": "stage 2's GRPOSettings overrides",
        "sft_iterations": "loop iterations trained with SFT (1)",
    }
    USES_METHOD: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.sft_iterations < 1:
            raise ValueError("sft_iterations must be >= 1 (the SFT stage comes first)")

    @classmethod
    def from_config(cls, context: RecipeContext) -> TwoStageRecipe:
        context.check_recipe_settings("two_stage", cls.SETTINGS)
        return cls(
            context.sft(),
            context.grpo(),
            int(context.recipe_settings.get("sft_iterations", 1)),
        )

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
        from training.iterations import SolverTrainer

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


@dataclass
class ActialRecipe:
    """Viewpoint cold start (its own data), then GRPO on the loop's samples."""

    coldstart: SFTSettings = field(metadata={"help": "Stage 1: hybrid viewpoint SFT."})
    grpo: GRPOSettings = field(metadata={"help": "Stage 2: GRPO on the whole task library."})
    data: ColdStartConfig = field(
        default_factory=ColdStartConfig, metadata={"help": "Stage 1's data source."}
    )
    workers: int | None = field(default=None, metadata={"help": "Sandbox workers for stage 1."})

    SETTINGS: ClassVar[dict[str, str]] = {
        "coldstart": "stage 1's SFTSettings overrides",
        "grpo": "stage 2's GRPOSettings overrides",
        "data": "stage 1's ColdStartConfig (num_scenes, orbit_pairs, ...)",
    }
    USES_METHOD: ClassVar[bool] = False

    @classmethod
    def from_config(cls, context: RecipeContext) -> ActialRecipe:
        context.check_recipe_settings("actial", cls.SETTINGS)
        data = dict(context.recipe_settings.get("data") or {})
        try:
            config = ColdStartConfig(**data)
        except TypeError as error:
            raise UserError(
                f"invalid configuration at 'training.recipe_settings.data': {error}"
            ) from error
        config.check()
        scale = not context.tiny
        return cls(
            context.sft("coldstart", **(ACTIAL_COLDSTART if scale else {})),
            context.grpo(**ACTIAL_GRPO_FORM, **(ACTIAL_GRPO if scale else {})),
            config,
        )

    def cold_start(self, run_dir: Path) -> TrainResult:
        """Stage 1 once per run (resumes like any iteration): scenes, samples, SFT."""
        from agents.sample_io import read_samples, write_samples
        from training.coldstart import build_viewpoint_samples, coldstart_scenes
        from training.hybrid import HybridTrainer

        done = completed_result(run_dir, "coldstart", 0)
        if done is not None:
            return done
        folder = run_dir / "coldstart"
        scenes = coldstart_scenes(folder / "scenes", self.data)
        samples_path = folder / "samples.parquet"
        if samples_path.exists():
            samples = read_samples(samples_path)
        else:
            samples = build_viewpoint_samples(folder / "scenes", self.data, self.workers)
            if not samples:
                raise UserError(
                    "the viewpoint cold start found no question; raise "
                    "training.recipe_settings.data.num_scenes or orbit_pairs"
                )
            write_samples(samples, samples_path)
        steps = self.data.steps(len(samples), self.coldstart.global_batch_size)
        settings = self.coldstart.replace(steps_per_iteration=steps)
        trainer = HybridTrainer(settings, run_dir, self.data.reasoning_fraction, self.data.mix_seed)
        return trainer.train_iteration(samples, scenes, 0)

    def train_iteration(
        self,
        samples: Iterable[Sample] | str | Path,
        scenes: SceneSource,
        iteration: int,
        run_dir: str | Path,
    ) -> TrainResult:
        from training.iterations import SolverTrainer

        run_dir = Path(run_dir)
        start = None
        if previous_result(run_dir, "grpo", iteration) is None:
            start = self.cold_start(run_dir).model_dir
        return SolverTrainer(self.grpo, run_dir).train_iteration(
            samples, scenes, iteration, model=start
        )


#: Recipe name -> class; `training.recipe` picks one. One line per recipe.
RECIPES: dict[str, type] = {
    "single": SingleMethodRecipe,
    "two_stage": TwoStageRecipe,
    "actial": ActialRecipe,
    "vilasr": VilasrRecipe,
}


def build_recipe(name: str, context: RecipeContext) -> Recipe:
    """The recipe called `name`, built from the loop's context (errors list the names).

    `training.method` is read by recipes with `USES_METHOD` only; the others fix their
    stages' methods, so a method other than the default (sft) with them is an error."""
    if name not in RECIPES:
        raise UserError(
            f"unknown training.recipe {name!r}; known: {', '.join(RECIPES)}. Add a class to "
            "training.recipes.RECIPES to define one"
        )
    recipe = RECIPES[name]
    if not recipe.USES_METHOD and context.method != "sft":
        raise UserError(
            f"invalid configuration: training.method={context.method} is read by "
            f"training.recipe=single only; {name} sets its stages' methods itself. Remove "
            "training.method (or use training.recipe=single)"
        )
    return recipe.from_config(context)
