"""What the loop's nodes share: the resolved settings and lazily built heavy resources.

Turning config sections into the components' own settings happens here, once, so a bad
value is reported before any work starts (`check_settings`), and each node just asks
for the sandbox, proposer, solver settings or trainer it needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.curriculum import BandThresholds, Policy, make_policy
from agents.solver.config import SolverConfig
from common.errors import UserError
from common.settings import build_dataclass, reject_reserved
from evaluation.procspatial_build import ProcSpatialConfig
from graphs.config import RunConfig
from graphs.store import RunStore
from training.config import GRPOSettings, SFTSettings

#: Program limits that `sandbox.*` decides for every run of a program.
SANDBOX_LIMITS = {"timeout_s": "sandbox.timeout_s", "memory_mb": "sandbox.memory_mb"}


def verifier_settings(cfg: RunConfig) -> Any:
    """agents.verifier's VerifierConfig from `verifier.settings` (nested sections as
    mappings); its program limits are `sandbox.timeout_s` / `sandbox.memory_mb`."""
    from agents.verifier.pipeline import VerifierConfig

    limits = cfg.verifier.settings.get("limits")
    if isinstance(limits, dict):
        reject_reserved(limits, SANDBOX_LIMITS, "verifier.settings.limits")
    config = build_dataclass(VerifierConfig, cfg.verifier.settings, "verifier.settings")
    config.limits = dataclasses.replace(
        config.limits, timeout_s=cfg.sandbox.timeout_s, memory_mb=cfg.sandbox.memory_mb
    )
    if not cfg.verifier.blind_check:
        config.checks = [name for name in config.checks if name != "blind"]
    return config


def sandbox_settings(cfg: RunConfig) -> Any:
    """The configured sandbox's own config (workers from `sandbox.workers`)."""
    from tools.sandbox import sandbox_config

    return sandbox_config(cfg.sandbox.name, workers=cfg.sandbox.workers)


def proposer_common(cfg: RunConfig, seed: int | None = None) -> Any:
    """What the proposer takes from outside `proposer.settings`; frames are the solver's."""
    from agents.proposers import ProposerCommon

    return ProposerCommon(
        seed=cfg.seed if seed is None else seed,
        tasks=cfg.proposer.tasks,
        model=cfg.proposer.model,
        num_solver_frames=solver_settings(cfg, "check").num_frames,
        program_timeout_s=cfg.sandbox.timeout_s,
        program_memory_mb=cfg.sandbox.memory_mb,
    )


def proposer_settings(cfg: RunConfig, seed: int | None = None) -> Any:
    """The proposer's own config (its registry class's), from `proposer.*`."""
    from agents.proposers import proposer_config

    return proposer_config(cfg.proposer.kind, proposer_common(cfg, seed), cfg.proposer.settings)


def proposer_arms(cfg: RunConfig) -> list[Any]:
    """Every arm the configured proposer offers, without building it (no model, no sandbox)."""
    from agents.proposers import proposer_arms as arms

    return arms(cfg.proposer.kind, proposer_settings(cfg))


def make_policy_for(cfg: RunConfig) -> Policy:
    """The curriculum policy: `loop.policy` from POLICIES, or uniform when selection=static."""
    name = "uniform" if cfg.loop.selection == "static" else cfg.loop.policy
    return make_policy(name, seed=cfg.seed)


def scene_settings(cfg: RunConfig) -> dict[str, Any]:
    """How `prepare` makes the scene pool: the generator's or the importer's arguments."""
    scenes = cfg.scenes
    if scenes.source == "import":
        return {"format": scenes.import_format, "src": scenes.import_path}
    return {
        "num": scenes.num,
        "seed": scenes.seed,
        "frames": scenes.frames,
        "width": scenes.width,
        "height": scenes.height,
        "orbit_pairs": scenes.orbit_pairs,
    }


def solver_settings(cfg: RunConfig, model: str) -> SolverConfig:
    return build_dataclass(
        SolverConfig, {"device": "cpu", **cfg.solver.settings, "model": model}, "solver.settings"
    )


def training_settings(cfg: RunConfig, model: str) -> SFTSettings | GRPOSettings:
    """Training settings; frames default to the solver's, so training sees what scoring sees."""
    cls = SFTSettings if cfg.training.method == "sft" else GRPOSettings
    solver = cfg.solver.settings
    frames = {key: solver[key] for key in ("num_frames", "frame_size") if key in solver}
    values = {"model": model, **frames, **cfg.training.settings}
    if cfg.training.tiny:
        try:
            return cls.tiny(**values)
        except (TypeError, ValueError) as error:
            raise UserError(f"invalid configuration at 'training.settings': {error}") from error
    return build_dataclass(cls, values, "training.settings")


def training_recipe(cfg: RunConfig, model: str) -> Any:
    """The `training.recipe` to train with, its stages' settings resolved."""
    from training.recipes import RecipeContext, build_recipe

    solver = cfg.solver.settings
    frames = {key: solver[key] for key in ("num_frames", "frame_size") if key in solver}
    context = RecipeContext(
        model=model,
        method=cfg.training.method,
        tiny=cfg.training.tiny,
        settings={**frames, **cfg.training.settings},
        recipe_settings=cfg.training.recipe_settings,
    )
    if cfg.training.recipe != "single" and cfg.training.launcher != "inprocess":
        raise UserError(
            f"invalid configuration: training.recipe={cfg.training.recipe} runs in the loop's "
            "process; set training.launcher=inprocess (or use training.recipe=single)"
        )
    return build_recipe(cfg.training.recipe, context)


def procspatial_settings(cfg: RunConfig) -> ProcSpatialConfig:
    values = {"workers": cfg.sandbox.workers, **cfg.evaluation.settings}
    config = build_dataclass(ProcSpatialConfig, values, "evaluation.settings")
    config.check()
    return config


def check_settings(cfg: RunConfig) -> None:
    """Build every component's settings once, so mistakes surface before any work."""
    solver = solver_settings(cfg, "check")
    verifier_settings(cfg)
    training = training_settings(cfg, "check")
    if (training.num_frames, training.frame_size) != (solver.num_frames, solver.frame_size):
        raise UserError(
            "invalid configuration: training sees "
            f"{training.num_frames} frames of {training.frame_size} px but the solver scores with "
            f"{solver.num_frames} of {solver.frame_size} px; set training.settings.num_frames and "
            "frame_size equal to solver.settings' (or leave them out to follow the solver)"
        )
    training_recipe(cfg, "check")
    from agents.signals import make_signal

    signal = make_signal(cfg.loop.signal, cfg.loop.signal_settings)
    if solver.backend != "transformers" and signal.needs_local_solver:
        raise UserError(
            f"invalid configuration: loop.signal={cfg.loop.signal} reads the transformers "
            f"solver's model directly, which solver.settings.backend={solver.backend} does not "
            "give; use loop.signal=token_confidence"
        )
    make_policy(cfg.loop.policy)  # checked even when selection=static does not use it
    proposer_settings(cfg)
    sandbox_settings(cfg)
    if cfg.evaluation.enabled:
        procspatial_settings(cfg)
    if cfg.scenes.source == "procedural":
        from evaluation.held_out import check_training_seeds

        check_training_seeds(cfg.scenes.seed, cfg.scenes.num)
    if cfg.proposer.tasks:
        from agents.tasks import TASKS

        unknown = sorted(set(cfg.proposer.tasks) - set(TASKS))
        if unknown:
            raise UserError(
                f"invalid configuration at 'proposer.tasks': unknown task type(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(TASKS))}"
            )


@dataclass
class LoopRuntime:
    """Settings plus resources that are expensive to build; created once per process."""

    config: RunConfig
    store: RunStore
    quiet: bool = False
    _sandbox: Any = field(default=None, repr=False)
    _scenes: dict[str, Any] | None = field(default=None, repr=False)
    _solver: tuple[str, Any] | None = field(default=None, repr=False)

    @property
    def thresholds(self) -> BandThresholds:
        return BandThresholds(easy=self.config.loop.easy, hard=self.config.loop.hard)

    def policy(self) -> Policy:
        return make_policy_for(self.config)

    def signal(self) -> Any:
        from agents.signals import make_signal

        return make_signal(self.config.loop.signal, self.config.loop.signal_settings)

    def sandbox(self) -> Any:
        if self._sandbox is None:
            from tools.sandbox import make_sandbox

            config = sandbox_settings(self.config)
            self._sandbox = make_sandbox(self.config.sandbox.name, config)
        return self._sandbox

    def proposer(self, seed: int, resources: Any = None) -> Any:
        """A proposer of `proposer.kind` with this seed, through the registry."""
        from agents.proposers import make_proposer

        config = proposer_settings(self.config, seed)
        return make_proposer(self.config.proposer.kind, config, resources)

    def scenes(self) -> dict[str, Any]:
        """Scene id -> Scene for the run's pool (loaded once)."""
        if self._scenes is None:
            from scenes.schema import Scene, list_scene_dirs

            loaded = [Scene.load(d) for d in list_scene_dirs(self.store.scenes_dir)]
            self._scenes = {scene.id: scene for scene in loaded}
        return self._scenes

    def solver(self, model: str) -> Any:
        """The solver for a checkpoint, loaded once: the blind check, scoring and the next
        baseline or evaluation of the same checkpoint share it."""
        if self._solver is None or self._solver[0] != model:
            from agents.solver.backends import load_solver

            self._solver = None  # the configured backend: transformers, vllm or vilasr
            self._solver = (model, load_solver(solver_settings(self.config, model)))
        return self._solver[1]

    def release_solver(self) -> None:
        self._solver = None

    def scene_dirs(self) -> dict[str, Path]:
        return {scene_id: self.store.scenes_dir / scene_id for scene_id in self.scenes()}

    def close(self) -> None:
        self.release_solver()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
