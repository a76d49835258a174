"""Run configuration: presets (YAML) + an optional config file + `key=value` overrides.

Every field carries help text; unknown keys and bad values are rejected with one
message naming the key and where it came from, before any work starts.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from agents.bands import EASY, HARD
from common.errors import UserError

PRESETS_DIR = Path(__file__).parent / "presets"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenesConfig(Section):
    source: Literal["procedural", "import"] = Field(
        "procedural", description="Generate procedural rooms, or use imported real scenes."
    )
    num: int = Field(6, ge=1, description="How many procedural scenes to generate.")
    seed: int = Field(0, ge=0, description="Seed of the first procedural scene.")
    frames: int = Field(16, ge=1, description="Frames per walkthrough video.")
    width: int = Field(160, ge=16, description="Frame width in pixels.")
    height: int = Field(120, ge=16, description="Frame height in pixels.")
    orbit_pairs: int = Field(
        0, ge=0, description="Orbit view pairs (around one object) rendered per procedural scene."
    )
    import_format: str | None = Field(
        None,
        description="Loader for source=import (vsibench-meta, scannet, arkitscenes).",
        examples=["scannet"],
    )
    import_path: Path | None = Field(
        None, description="Source file or folder for source=import.", examples=["scans/"]
    )

    @model_validator(mode="after")
    def _import_needs_a_source(self) -> ScenesConfig:
        if self.source == "import":
            if not self.import_format or self.import_path is None:
                raise ValueError("source=import needs scenes.import_format and scenes.import_path")
            if not Path(self.import_path).exists():
                raise ValueError(f"scenes.import_path {self.import_path} does not exist")
        elif self.import_format or self.import_path is not None:
            raise ValueError(
                "scenes.import_format and scenes.import_path are read with scenes.source=import "
                "only; set scenes.source=import or remove them"
            )
        return self


class ProposerConfig(Section):
    kind: str = Field(
        "programmatic",
        description="A name in agents.proposers.PROPOSERS: programmatic (task templates, no "
        "LLM) or llm (an LLM agent with scene tools).",
        examples=["llm"],
    )
    model: str | None = Field(
        None,
        description="For kind=llm: 'vllm:MODEL@http://host:port/v1', 'openai:MODEL', ...",
        examples=["openai:gpt-4o"],
    )
    per_iteration: int = Field(
        120, ge=1, description="Proposals per iteration (the sample budget)."
    )
    tasks: list[str] | None = Field(
        None, description="Task types to propose (default: all).", examples=[["object_counting"]]
    )
    max_concurrency: int = Field(
        4,
        ge=1,
        description="Propose jobs per round: the arms are dealt over this many jobs, each "
        "on every scene, and run at once (the fan-out width; `ouroboros propose --jobs`).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields of the proposer's own config (ProgrammaticConfig: scene_attempts, "
        "refill, ambiguity; LLMProposerConfig: recheck, concurrency, limits, model_settings, ...).",
        examples=[{"scene_attempts": 3}],
    )

    @field_validator("kind")
    @classmethod
    def _kind_is_registered(cls, kind: str) -> str:
        from agents.proposers import PROPOSERS

        if kind not in PROPOSERS:
            raise ValueError(
                f"unknown proposer {kind!r}; choose one of {', '.join(sorted(PROPOSERS))}"
            )
        return kind


class SandboxConfig(Section):
    name: str = Field(
        "local",
        description="'local' (worker pool) or 'e2b' (needs E2B_API_KEY); tools.sandbox.SANDBOXES.",
        examples=["e2b"],
    )
    workers: int = Field(2, ge=1, description="Programs run in parallel.")
    timeout_s: float = Field(
        10.0,
        gt=0,
        description="Wall-clock limit per program (s): the verifier's runs and the LLM "
        "proposer's run_program / submit_proposal tools.",
    )
    memory_mb: int = Field(
        1024, ge=64, description="Memory limit per program (MiB), for the same runs."
    )


class VerifierSection(Section):
    blind_check: bool = Field(
        True, description="Reject questions the solver answers without frames."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields of agents.verifier's VerifierConfig (program limits: sandbox.*).",
        examples=[{"intake": {"max_program_chars": 2000}}],
    )


class SolverSection(Section):
    model: str = Field(
        "tiny",
        description="Starting checkpoint: a folder or hub id; 'tiny' builds a tiny Qwen3-VL in the run, "
        "'tiny-seeing' copies the shipped one whose vision tower was pretrained (docs/solver.md).",
        examples=["tiny-seeing"],
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields of agents.solver.SolverConfig; num_frames is also how many frames "
        "each loop question shows the solver (and training follows it).",
        examples=[{"num_frames": 8}],
    )


class TrainingSection(Section):
    method: Literal["sft", "grpo"] = Field("sft", description="SFT (the paper) or GRPO.")
    recipe: str = Field(
        "single",
        description="What each iteration trains (training.recipes.RECIPES): 'single' (training."
        "method every iteration, the paper), 'two_stage', 'actial' (viewpoint cold start, then "
        "GRPO), 'vilasr' (drawing solver: cold start, RRS, tool GRPO; with solver.settings.backend=vilasr).",
        examples=["two_stage"],
    )
    recipe_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="The recipe's own settings, e.g. actial: coldstart / grpo / data sections.",
        examples=[{"sft": {"learning_rate": 0.001}}],
    )
    tiny: bool = Field(False, description="Start from the CPU-friendly tiny-model settings.")
    launcher: Literal["inprocess", "accelerate"] = Field(
        "inprocess",
        description="Train inside the loop's process, or in an 'accelerate launch' subprocess "
        "(multi-GPU: DDP or DeepSpeed ZeRO-3).",
    )
    accelerate_config: str = Field(
        "ddp",
        description="For launcher=accelerate: 'ddp', 'zero3' or a path to an accelerate YAML.",
        examples=["zero3"],
    )
    num_processes: int = Field(1, ge=1, description="For launcher=accelerate: processes (GPUs).")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields of training.config.SFTSettings / GRPOSettings.",
        examples=[{"learning_rate": 0.001}],
    )

    @model_validator(mode="after")
    def _launcher_settings_need_accelerate(self) -> TrainingSection:
        if self.launcher == "inprocess" and (
            self.accelerate_config != "ddp" or self.num_processes != 1
        ):
            raise ValueError(
                "training.accelerate_config and training.num_processes are read with "
                "training.launcher=accelerate only; set it, or remove them"
            )
        return self


class EvaluationSection(Section):
    enabled: bool = Field(
        True, description="Score each iteration's solver on held-out ProcSpatial."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields of evaluation.procspatial_build.ProcSpatialConfig (size, num_scenes, ...).",
        examples=[{"num_scenes": 3}],
    )
    batch_size: int = Field(8, ge=1, description="Questions answered per batch.")


class LoopSection(Section):
    iterations: int = Field(3, ge=1, description="Iteration budget.")
    selection: Literal["all", "band", "static"] = Field(
        "all",
        description="all: train on every accepted sample, the difficulty feedback steers the "
        "proposer (the paper; 'feedback' is its older name); band: also drop easy and hard "
        "samples; static: uniform proposer, no difficulty feedback.",
    )
    patience: int = Field(
        0, ge=0, description="Stop after this many iterations without gain (0: never)."
    )
    min_gain: float = Field(0.0, ge=0, description="Held-out gain that counts as progress.")
    easy: float = Field(EASY, gt=0, lt=1, description="Confidence above this is 'easy'.")
    hard: float = Field(HARD, gt=0, lt=1, description="Confidence below this is 'hard'.")
    feedback_decay: float = Field(
        0.5, ge=0, le=1, description="Weight of older rounds when merging feedback."
    )
    signal: str = Field(
        "token_confidence",
        description="Difficulty signal (agents/signals): token_confidence (the paper), "
        "expected_score, solve_rate or learning_progress.",
        examples=["expected_score"],
    )
    policy: str = Field(
        "yield_bandit",
        description="Curriculum policy when selection is all or band (agents/curriculum.py): "
        "yield_bandit, bandit (learnability only) or uniform.",
        examples=["bandit"],
    )
    signal_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="The signal's own settings, e.g. samples=8.",
        examples=[{"grid_size": 21}],
    )

    @field_validator("selection", mode="before")
    @classmethod
    def _older_selection_name(cls, value: Any) -> Any:
        """`feedback` was this mode's name; older config.yaml files and commands use it."""
        return "all" if value == "feedback" else value

    @model_validator(mode="after")
    def _bands_are_ordered(self) -> LoopSection:
        if self.hard >= self.easy:
            raise ValueError(f"loop.hard ({self.hard}) must be below loop.easy ({self.easy})")
        return self


class RunConfig(Section):
    preset: str = Field(
        "cpu-tiny",
        description="The preset this config started from.",
        examples=["gpu-qwen3vl-4b"],
    )
    seed: int = Field(0, description="Global seed for everything not seeded elsewhere.")
    scenes: ScenesConfig = Field(default_factory=ScenesConfig)
    proposer: ProposerConfig = Field(default_factory=ProposerConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    verifier: VerifierSection = Field(default_factory=VerifierSection)
    solver: SolverSection = Field(default_factory=SolverSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    loop: LoopSection = Field(default_factory=LoopSection)

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        return migrate_config(data)

    @model_validator(mode="after")
    def _check_across_sections(self) -> RunConfig:
        if self.proposer.kind == "llm" and not self.proposer.model:
            raise ValueError(
                "proposer.kind=llm needs proposer.model (e.g. vllm:MODEL@http://host:8000/v1)"
            )
        if self.proposer.kind != "llm" and self.proposer.model:
            raise ValueError(
                f"proposer.model is read by proposer.kind=llm only (kind is "
                f"{self.proposer.kind}); remove proposer.model or set proposer.kind=llm"
            )
        return self


def migrate_config(data: Any) -> Any:
    """Older config files (and run folders' config.yaml) in today's keys.

    `proposer.question_frames` was removed: `solver.settings.num_frames` alone decides how
    many frames the solver sees per loop question (and training follows it). An old value
    equal to the solver's, or with the solver's unset, moves there; a different one is an
    error, since the two used to disagree silently.
    """
    if not isinstance(data, dict) or not isinstance(data.get("proposer"), dict):
        return data
    if "question_frames" not in data["proposer"]:
        return data
    data = {**data, "proposer": dict(data["proposer"])}
    frames = data["proposer"].pop("question_frames")
    solver = dict(data.get("solver") or {})
    settings = dict(solver.get("settings") or {})
    if "num_frames" in settings and settings["num_frames"] != frames:
        raise ValueError(
            f"proposer.question_frames ({frames}) was removed: solver.settings.num_frames "
            f"({settings['num_frames']}) now decides how many frames the solver sees per "
            "question, in the loop too. Remove proposer.question_frames (or, in a run folder's "
            f"config.yaml, set solver.settings.num_frames: {frames} to keep its questions)"
        )
    settings["num_frames"] = frames
    data["solver"] = {**solver, "settings": settings}
    return data


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise UserError(f"{what} {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise UserError(f"{what} {path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise UserError(f"{what} {path} must hold a mapping of settings, got {type(data).__name__}")
    return data


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`update` over `base`, nested mappings merged key by key (neither is modified)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> dict[str, Any]:
    """'a.b=3' -> {'a': {'b': 3}}; the value is parsed as YAML (numbers, bools, lists)."""
    if "=" not in text:
        raise UserError(f"override {text!r} must look like key=value (for example scenes.num=4)")
    key, raw = text.split("=", 1)
    if not key or any(not part for part in key.split(".")):
        raise UserError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)  # YAML 1.1 reads '2e-4' (no dot) as text
    nested: dict[str, Any] = {}
    cursor = nested
    parts = key.split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return nested


def _drop_unused_evaluation_settings(data: dict[str, Any], layers: list[dict[str, Any]]) -> None:
    """With evaluation off, `evaluation.settings` from a config file or an override would be
    ignored: a user error; the preset's own are dropped. Checked here, on what the user
    gives, so run folders saved before this check (preset settings kept) still resume."""
    evaluation = data.get("evaluation") or {}
    if evaluation.get("enabled") is not False:
        return
    given = sorted(
        {key for layer in layers for key in (layer.get("evaluation") or {}).get("settings") or {}}
    )
    if given:
        raise UserError(
            "invalid configuration at 'evaluation.settings': evaluation.enabled is false, so "
            f"{', '.join(given)} would be ignored; remove evaluation.settings or set "
            "evaluation.enabled=true"
        )
    data["evaluation"] = {**evaluation, "settings": {}}


def load_config(
    preset: str = "cpu-tiny", config_file: Path | None = None, overrides: list[str] | None = None
) -> RunConfig:
    """Preset, then file, then overrides; validated as a whole."""
    if preset not in list_presets():
        raise UserError(f"unknown preset {preset!r}; known presets: {', '.join(list_presets())}")
    data = _read_yaml(PRESETS_DIR / f"{preset}.yaml", "preset")
    data["preset"] = preset
    layers = [_read_yaml(Path(config_file), "config file")] if config_file is not None else []
    layers += [parse_override(override) for override in overrides or []]
    for layer in layers:
        data = deep_merge(data, layer)
    _drop_unused_evaluation_settings(data, layers)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        given = first.get("input")
        got = "" if isinstance(given, dict) else f" (got {given!r})"
        raise UserError(
            f"invalid configuration at '{where}': {first['msg']}{got}; "
            f"see 'ouroboros run --help' and graphs/presets/{preset}.yaml"
        ) from error
