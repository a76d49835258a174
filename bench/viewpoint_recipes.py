"""Viewpoint benchmark before and after training: the paper's loop vs the `actial` recipe.

Builds the held-out viewpoint benchmark, then runs the loop twice from the same tiny
solver and the same scene pool (with orbit views): once with `training.recipe=single`
(SFT every iteration, the paper) and once with `training.recipe=actial` (viewpoint cold
start, then GRPO on the whole task library). Scores the starting solver, each run's
final solver and the actial run's cold-start checkpoint on the benchmark; prints a table.

    nice -n 10 .venv/bin/python bench/viewpoint_recipes.py --out /tmp/vr
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_common import parse_config

from evaluation.evaluator import evaluate
from evaluation.procspatial import ProcSpatial
from evaluation.viewpoint_bench import ViewpointBenchConfig, build_viewpoint_bench
from graphs.build import build_graph, open_checkpointer, run_config
from graphs.config import load_config
from graphs.runtime import LoopRuntime, check_settings, solver_settings
from graphs.store import RunStore


@dataclass
class Config:
    out: str = field(default="/tmp/viewpoint_recipes", metadata={"help": "Output folder."})
    bench_size: int = field(default=90, metadata={"help": "Viewpoint benchmark questions."})
    bench_scenes: int = field(default=12, metadata={"help": "Viewpoint benchmark scenes."})
    iterations: int = field(default=2, metadata={"help": "Loop iterations per run."})
    per_iteration: int = field(default=60, metadata={"help": "Proposals per iteration."})
    scenes: int = field(default=4, metadata={"help": "Scenes in the loop's pool."})
    steps: int = field(default=8, metadata={"help": "Training steps per loop iteration."})
    coldstart_scenes: int = field(default=6, metadata={"help": "Cold-start scenes (actial)."})
    coldstart_per_arm: int = field(default=4, metadata={"help": "Cold-start questions per arm."})
    recipes: str = field(
        default="single,actial", metadata={"help": "Recipes to run, comma-separated."}
    )
    grpo_learning_rate: float = field(
        default=0.0, metadata={"help": "GRPO learning rate of the actial run (0: the tiny 1e-2)."}
    )


def overrides(config: Config, recipe: str) -> list[str]:
    common = [
        f"scenes.num={config.scenes}",
        "scenes.frames=8",
        "scenes.orbit_pairs=2",
        f"proposer.per_iteration={config.per_iteration}",
        f"loop.iterations={config.iterations}",
        "evaluation.enabled=false",
        f"training.settings.steps_per_iteration={config.steps}",
        f"training.recipe={recipe}",
    ]
    if recipe == "actial":
        common += [
            f"training.recipe_settings.data.num_scenes={config.coldstart_scenes}",
            f"training.recipe_settings.data.questions_per_arm={config.coldstart_per_arm}",
            "training.recipe_settings.grpo.max_completion_length=24",
        ]
        if config.grpo_learning_rate:
            common.append(
                f"training.recipe_settings.grpo.learning_rate={config.grpo_learning_rate}"
            )
    return common


def run_loop(out: Path, config: Config, recipe: str) -> tuple[Any, str]:
    cfg = load_config(overrides=overrides(config, recipe))
    check_settings(cfg)
    store = RunStore(out / run_name(config, recipe))
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            state = graph.invoke({}, run_config(cfg))
    finally:
        runtime.close()
    return cfg, state["solver_checkpoint"]


def run_name(config: Config, recipe: str) -> str:
    lr = (
        f"-lr{config.grpo_learning_rate:g}"
        if recipe == "actial" and config.grpo_learning_rate
        else ""
    )
    return f"run-{recipe}{lr}"


def score(cfg: Any, bench: ProcSpatial, model: str) -> dict[str, Any]:
    from agents.solver.solver import Solver

    report = evaluate(Solver(solver_settings(cfg, model)), bench, batch_size=16, model=model)
    result = report.model_dump(mode="json")["result"]
    tasks = {
        name: task["score"]
        for group in ("tasks", "extra_tasks")
        for name, task in (result.get(group) or {}).items()
    }
    overall = result.get("overall_with_extra")  # our own task types: not in VSI-Bench's overall
    return {"overall": overall if overall is not None else result.get("overall"), "tasks": tasks}


def main() -> None:
    config = parse_config(Config, __doc__.splitlines()[0])
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    bench_dir = out / "viewpoint-bench"
    if not bench_dir.exists():
        build_viewpoint_bench(
            bench_dir, ViewpointBenchConfig(size=config.bench_size, num_scenes=config.bench_scenes)
        )
    bench = ProcSpatial.load(bench_dir)
    labels = {
        "single": f"after the paper's loop (SFT, {config.iterations} iterations)",
        "actial": f"after actial (cold start, then GRPO, {config.iterations} iterations)",
    }
    rows: dict[str, dict[str, Any]] = {}
    if config.grpo_learning_rate:
        labels["actial"] += f", GRPO lr {config.grpo_learning_rate:g}"
    for recipe in config.recipes.split(","):
        cfg, final = run_loop(out, config, recipe)
        if not rows:
            initial = str(RunStore(out / run_name(config, recipe)).initial_solver_dir)
            rows["before (tiny solver, seed 0)"] = score(cfg, bench, initial)
        if recipe == "actial":
            cold = out / run_name(config, recipe) / "training" / "coldstart" / "iteration-000"
            result = json.loads((cold / "result.json").read_text())
            rows["actial: after its cold start only"] = score(cfg, bench, result["model_dir"])
        rows[labels[recipe]] = score(cfg, bench, final)
    names = sorted({name for row in rows.values() for name in row["tasks"]})
    header = ["solver", "overall", *(n.removeprefix("viewpoint_") for n in names)]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for label, row in rows.items():
        cells = [f"{100 * row['overall']:.1f}"] + [f"{100 * row['tasks'][n]:.1f}" for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")
    name = "results" + (f"-lr{config.grpo_learning_rate:g}" if config.grpo_learning_rate else "")
    (out / f"{name}.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
