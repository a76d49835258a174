"""Every setting does something: a field of RunConfig whose change leaves every built
object as it was is a setting that is never read.

The fields are walked from the pydantic models (a new field is checked without touching
this file); each is changed from its default to another valid value (the other choices of
a Literal, a flipped bool, a nudged number, or the Field's `examples`), and what the loop
builds from the config is compared: proposer, verifier, sandbox, solver, training and
evaluation settings, policy, signal, the first round's plan, the scene generator's
arguments, the graph's run config and the stop rule.
"""

from __future__ import annotations

import dataclasses
import random
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from agents.curriculum import BandThresholds
from agents.proposers import proposer_class
from agents.signals import make_signal
from graphs import nodes
from graphs.build import run_config
from graphs.config import RunConfig
from graphs.planning import plan_propose_jobs
from graphs.runtime import (
    make_policy_for,
    procspatial_settings,
    proposer_arms,
    proposer_settings,
    sandbox_settings,
    scene_settings,
    solver_settings,
    training_recipe,
    training_settings,
    verifier_settings,
)
from graphs.summary import load_history

#: Fields (or one value of a field) whose effect is only at run time, each with the reason.
#: Nothing else may be listed here.
RUN_TIME_ONLY: dict[str, str] = {
    "preset": "names the default run folder (runs/PRESET) in `ouroboros run`",
    "solver.model": "the starting checkpoint; the prepare node writes or copies it",
    "training.launcher": "the train node trains in process or via `accelerate launch`",
    "training.accelerate_config": "passed to `accelerate launch` by the train node",
    "training.num_processes": "passed to `accelerate launch` by the train node",
    "evaluation.batch_size": "questions per batch when the held-out set is answered",
    "loop.feedback_decay": "the feedback node's weight of older rounds when merging",
    "loop.selection=band": "the select node drops easy and hard samples (policy unchanged)",
}

#: Settings read only together with others (path -> the overrides that make them read).
#: A field listed here is still checked; it is changed with these in both configs.
IMPORT = {"scenes.source": "import", "scenes.import_format": "vsibench-meta"}
NEEDS: dict[str, dict[str, Any]] = {
    "proposer.model": {"proposer.kind": "llm", "proposer.model": "openai:unused"},
    "scenes.import_format": {**IMPORT, "scenes.import_path": "imported"},
    "scenes.import_path": {**IMPORT, "scenes.import_path": "imported"},
    "loop.signal_settings": {"loop.signal": "expected_score"},
    "loop.min_gain": {"loop.patience": 1},
}
#: Changing the field also needs these (the new value is read only with them).
NEEDS_WITH_VALUE: dict[str, dict[str, Any]] = {
    "proposer.kind=llm": {"proposer.model": "openai:unused"},
    "scenes.source=import": {**IMPORT, "scenes.import_path": "imported"},
}

#: Held-out scores for the stop rule: one falling run (patience), one slowly rising (min_gain).
FALLING = [0.5, 0.4, 0.3, 0.2]
RISING = [0.30, 0.31, 0.32, 0.33]


def leaf_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, FieldInfo]]:
    """Every field of the config, sections walked recursively."""
    found: list[tuple[str, FieldInfo]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += leaf_fields(annotation, f"{path}.")
        else:
            found.append((path, info))
    return found


def other_values(path: str, info: FieldInfo) -> list[Any]:
    """Valid values other than the default, generated from the field's type and bounds."""
    default = info.get_default(call_default_factory=True)
    annotation = info.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return [choice for choice in typing.get_args(annotation) if choice != default]
    if info.examples:
        return [example for example in info.examples if example != default][:1]
    if annotation is bool:
        return [not default]
    bounds = {type(m).__name__: m for m in info.metadata}
    if annotation is int:
        upper = getattr(bounds.get("Le"), "le", None)
        return [default - 1 if upper is not None and default + 1 > upper else default + 1]
    if annotation is float:
        return [default / 2 if default else 0.5]
    raise AssertionError(
        f"{path}: no other value can be generated for {annotation}; add examples=[...] to its "
        "Field in graphs/config.py"
    )


def nested(flat: dict[str, Any], folder: Path) -> dict[str, Any]:
    """{'a.b': 1} -> {'a': {'b': 1}}; an import path is made as a folder under `folder`."""
    data: dict[str, Any] = {}
    for path, value in flat.items():
        cursor = data
        *parents, last = path.split(".")
        for part in parents:
            cursor = cursor.setdefault(part, {})
        if path == "scenes.import_path":
            value = folder / value
            value.mkdir(parents=True, exist_ok=True)
        cursor[last] = value
    return data


def plain(value: Any) -> Any:
    """A comparable picture of a built object (types, dataclass fields, attributes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return (type(value).__qualname__, fields)
    if isinstance(value, BaseModel):
        return (type(value).__qualname__, plain(value.model_dump()))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, type):
        return value.__qualname__
    if isinstance(value, random.Random):
        return value.getstate()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dict__") and not isinstance(value, types.ModuleType):
        return (type(value).__qualname__, plain(vars(value)))
    return value


def built(cfg: RunConfig) -> dict[str, Any]:
    """What the loop builds from `cfg`, before any work (nothing heavy is constructed)."""
    policy = make_policy_for(cfg)
    quotas = policy.allocate(proposer_arms(cfg), cfg.proposer.per_iteration, None)
    runtime = types.SimpleNamespace(config=cfg)
    stops = {
        name: [
            nodes._stop_reason(  # the feedback node's stop rule, on a made-up history
                runtime,
                i,
                load_history(
                    [
                        {"iteration": j, "heldout": {"overall": s}}
                        for j, s in enumerate(scores[: i + 1])
                    ]
                ),
            )
            for i in range(len(scores))
        ]
        for name, scores in (("falling", FALLING), ("rising", RISING))
    }
    return {
        "seed": cfg.seed,  # the run's seed goes to everything below; checked through them too
        "scenes": scene_settings(cfg),
        "proposer": (proposer_class(cfg.proposer.kind), proposer_settings(cfg)),
        "plan": plan_propose_jobs(quotas, 0, cfg.proposer.max_concurrency),
        "sandbox": (cfg.sandbox.name, sandbox_settings(cfg)),
        "verifier": verifier_settings(cfg),
        "solver": solver_settings(cfg, "model"),
        "training": training_settings(cfg, "model"),
        "recipe": training_recipe(cfg, "model"),
        "evaluation": procspatial_settings(cfg) if cfg.evaluation.enabled else None,
        "policy": policy,
        "signal": make_signal(cfg.loop.signal, cfg.loop.signal_settings),
        "thresholds": BandThresholds(easy=cfg.loop.easy, hard=cfg.loop.hard),
        "graph": run_config(cfg),
        "stop": stops,
    }


FIELDS = leaf_fields(RunConfig)


def test_the_walk_sees_every_section() -> None:
    sections = {path.split(".")[0] for path, _ in FIELDS if "." in path}
    assert sections == {name for name, f in RunConfig.model_fields.items() if f.annotation
                        and isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)}  # fmt: skip
    assert len(FIELDS) >= 46
    listed = {key.split("=")[0] for key in [*RUN_TIME_ONLY, *NEEDS, *NEEDS_WITH_VALUE]}
    assert listed <= {path for path, _ in FIELDS}, "an entry names a field that is gone"


@pytest.mark.parametrize(("path", "info"), FIELDS, ids=[path for path, _ in FIELDS])
def test_changing_a_setting_changes_what_the_loop_builds(
    path: str, info: FieldInfo, tmp_path: Path
) -> None:
    if path in RUN_TIME_ONLY:
        pytest.skip(RUN_TIME_ONLY[path])
    for value in other_values(path, info):
        key = f"{path}={value}"
        if key in RUN_TIME_ONLY:
            continue
        context = NEEDS.get(path, {})
        changed = {**context, **NEEDS_WITH_VALUE.get(key, {}), path: value}
        before = RunConfig.model_validate(nested(context, tmp_path))
        after = RunConfig.model_validate(nested(changed, tmp_path))
        assert plain(built(before)) != plain(built(after)), (
            f"{path}: changing it from its default to {value!r} changes nothing the loop "
            "builds; read it where it matters, remove it, or (only if its effect is at run "
            "time) list it in RUN_TIME_ONLY with the reason"
        )
