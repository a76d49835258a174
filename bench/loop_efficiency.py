"""Does the closed loop pay? Static data vs the feedback loop at equal sample budgets.

    .venv/bin/python bench/loop_efficiency.py --size cpu --out runs/loop-efficiency

Arms, all over the same scene pool, from the same warmed-up solver, with the same
training settings and the same proposals per iteration (the real loop graph each time,
only `loop.selection` differs; the arm names predate the mode's name `all`):

- static: uniform quotas over task types and levels, no feedback (curated data);
- feedback (`loop.selection=all`): the learnability bandit steers the proposer (the
  paper's loop);
- band: feedback, and easy and hard samples are dropped before training.

One loop run per (arm, seed), evaluated on held-out ProcSpatial after every iteration.
Budgets are the iterations after which the cumulative sample count has doubled (1, 2,
4, 8 iterations' worth). Writes OUT/results.json, OUT/tables.md and OUT/plot.png, and
prints the tables. Finished runs are reused, so an interrupted experiment resumes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from training.warmup import WarmupConfig

ARMS = ("static", "feedback", "band")
#: Each arm's `loop.selection` (the arms keep their names: recorded results use them).
SELECTION = {"static": "static", "feedback": "all", "band": "band"}


@dataclass
class ExperimentSize:
    """One configuration of the experiment: loop settings shared by every arm, and more."""

    description: str = field(metadata={"help": "What this size is for."})
    overrides: list[str] = field(
        metadata={"help": "Loop config overrides (on top of the preset) shared by every arm."}
    )
    iterations: int = field(metadata={"help": "Loop iterations per run (the largest budget)."})
    warmup: WarmupConfig = field(metadata={"help": "The perception warm-up (steps=0: none)."})
    preset: str = field(default="cpu-tiny", metadata={"help": "Loop preset to start from."})
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={"help": "Seeds per arm."})
    arms: list[str] = field(default_factory=lambda: list(ARMS), metadata={"help": "Arms to run."})


#: cpu-tiny's frames and solver, sized for 30 minutes on 2 cores. 16 steps of 4 is one pass
#: over an iteration's 64 proposals. The learning rate is a fifth of the tiny default
#: (1e-3), which fits the answer priors within the first 64 samples and leaves the budget
#: axis flat (docs/results.md shows that run too).
CPU_LOOP = [
    "scenes.num=8",
    "proposer.per_iteration=64",
    "training.settings.steps_per_iteration=16",
    "training.settings.learning_rate=0.0002",
    "evaluation.settings.size=240",
    "evaluation.settings.num_scenes=8",
]
CI_LOOP = [
    "scenes.num=2",
    "scenes.frames=8",
    "scenes.width=64",
    "scenes.height=48",
    "proposer.per_iteration=16",
    "solver.settings.num_frames=2",
    "training.settings.steps_per_iteration=2",
    "evaluation.settings.size=12",
    "evaluation.settings.num_scenes=2",
    "evaluation.settings.walkthrough_frames=8",
    "evaluation.settings.width=64",
    "evaluation.settings.height=48",
    "evaluation.settings.question_frames=2",
]
#: Not run in this project so far (no GPU): a real Qwen3-VL-4B, paper training settings,
#: budgets of 500, 1k, 2k and 4k proposals, the published-size held-out set. A pretrained
#: model sees already, so it starts without a warm-up.
GPU_LOOP = [
    "proposer.per_iteration=500",
    "training.settings.steps_per_iteration=8",
    "evaluation.settings.size=1000",
    "loop.patience=0",
]

SIZES: dict[str, ExperimentSize] = {
    "ci": ExperimentSize(
        description="Smoke test: one budget, one seed, a few steps (tests/bench).",
        overrides=CI_LOOP,
        iterations=1,
        seeds=[0],
        warmup=WarmupConfig(
            num_scenes=2,
            frames=8,
            width=64,
            height=48,
            question_frames=2,
            questions_per_scene=6,
            steps=2,
            check_scenes=1,
        ),
    ),
    "cpu": ExperimentSize(
        description="The measured configuration: tiny solver, 2-core CPU, under 30 minutes.",
        overrides=CPU_LOOP,
        iterations=8,
        warmup=WarmupConfig(num_scenes=8, questions_per_scene=30, steps=120),
    ),
    "gpu": ExperimentSize(
        description="Qwen3-VL-4B on one GPU (preset gpu-qwen3vl-4b); not run here.",
        preset="gpu-qwen3vl-4b",
        overrides=GPU_LOOP,
        iterations=8,
        warmup=WarmupConfig(steps=0),
    ),
}


def arm_overrides(
    size: ExperimentSize, arm: str, seed: int, start_model: str, extra: list[str] | None = None
) -> list[str]:
    """The size's loop settings, `extra` ones, then what differs between runs: the arm's
    selection mode, the seed and the starting checkpoint."""
    return [
        *size.overrides,
        *(extra or []),
        f"loop.iterations={size.iterations}",
        f"loop.selection={SELECTION[arm]}",
        f"seed={seed}",
        f"training.settings.seed={seed}",
        f"solver.model={start_model}",
    ]


def run_loop(store: Any, cfg: Any, on_iteration: Callable[[], None]) -> None:
    """Run (or finish) one loop in `store` with the real graph and its checkpointer."""
    from graphs.build import build_graph, open_checkpointer, run_config
    from graphs.runtime import LoopRuntime, check_settings

    check_settings(cfg)
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            invoke = run_config(cfg)
            state = graph.get_state(invoke)
            if state.values and not state.next:
                return  # finished earlier
            start = None if state.values else {}
            for update in graph.stream(start, invoke, stream_mode="updates"):
                if "feedback" in update:
                    on_iteration()
    finally:
        runtime.close()


def run_arms(
    out: Path,
    size: ExperimentSize,
    shared: Any,
    arms: list[str],
    seeds: list[int],
    extra: list[str],
    console: Console,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """One loop per (seed, arm) from the shared start; their records and wall times."""
    from loop_efficiency_analysis import run_record
    from loop_efficiency_setup import link_run

    from graphs.config import load_config

    runs, timings = [], {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, redirect_stdout=False, redirect_stderr=False) as bar:
        total = bar.add_task("iterations", total=len(arms) * len(seeds) * size.iterations)
        for seed in seeds:
            for arm in arms:
                name = f"{arm}-seed{seed}"
                bar.update(total, description=f"iterations ({name})")
                overrides = arm_overrides(size, arm, seed, shared.start_model, extra)
                cfg = load_config(size.preset, overrides=overrides)
                store = link_run(out / "runs" / name, shared)
                clock = time.perf_counter()
                with _quiet(out / "logs" / f"{name}.log"):
                    run_loop(store, cfg, lambda: bar.advance(total))
                timings[name] = round(time.perf_counter() - clock, 1)
                runs.append(run_record(store, arm, seed))
    return runs, timings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu", help="Experiment size.")
    parser.add_argument("--out", type=Path, default=Path("runs/loop-efficiency"))
    parser.add_argument("--seeds", type=int, nargs="+", help="Override the size's seeds.")
    parser.add_argument("--arms", nargs="+", choices=ARMS, help="Override the size's arms.")
    parser.add_argument(
        "--set",
        dest="extra",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Extra loop config override for every arm and the warm-up (repeatable), e.g. "
        "training.settings.learning_rate=2e-4.",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1 is fastest on a shared 2-core machine: a larger pool spin-waits).",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import torch
    from datasets.utils.logging import disable_progress_bar
    from loop_efficiency_analysis import summarize
    from loop_efficiency_output import plot, print_tables, write_markdown
    from loop_efficiency_setup import build_shared
    from transformers.utils import logging as hf_logging

    from graphs.config import load_config

    args = parse_args(argv)
    size = SIZES[args.size]
    seeds, arms = args.seeds or size.seeds, args.arms or size.arms
    torch.set_num_threads(args.threads)
    disable_progress_bar()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    # bound to the real stdout: the loop's own output is redirected to log files meanwhile
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 180)
    out = args.out
    (out / "logs").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = load_config(
        size.preset, overrides=arm_overrides(size, "static", seeds[0], "tiny", args.extra)
    )
    with console.status("scene pool, held-out set, warm-up"), _quiet(out / "logs" / "shared.log"):
        shared = build_shared(out, base, size.warmup)
    setup_s = time.perf_counter() - started
    console.print(
        f"shared set-up done in {setup_s:.0f} s; warm-up: {shared.warmup['samples']} "
        f"samples, held-out {shared.warmup['before']['overall']:.3f} -> "
        f"{shared.warmup['after']['overall']:.3f}"
    )
    runs, timings = run_arms(out, size, shared, arms, seeds, args.extra, console)
    results = {
        "size": args.size,
        "config": {**asdict(size), "arms": arms, "seeds": seeds, "extra": args.extra},
        "warmup": shared.warmup,
        "runs": runs,
        "summary": summarize(runs, arms, size.iterations),
        "timings_s": {"setup": round(setup_s, 1), **timings},
        "wall_s": round(time.perf_counter() - started, 1),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_markdown(results, out / "tables.md")
    plot(results, out / "plot.png")
    print_tables(console, results)
    console.print(f"wall time {results['wall_s'] / 60:.1f} min; results in {out}")
    return results


@contextlib.contextmanager
def _quiet(log: Path) -> Iterator[None]:
    """Send what the trainer and loaders print to a log file, so the progress bar stays readable."""
    with (
        open(log, "a", encoding="utf-8") as sink,
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        yield


if __name__ == "__main__":
    main()
