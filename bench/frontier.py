"""Frontier check: the static arm trained from zero to thousands of samples, per-task curves.

    nice -n 10 .venv/bin/python bench/frontier.py --size cpu --out runs/frontier

Before comparing curriculum arms, the solver must have a frontier to find: per task, the
held-out score should rise early for some tasks, late for others, and never for some
(issue #14, part 5). This trains the static arm only, through the loop's real SFT path:

1. the shared set-up of the pooled experiment (bench/loop_efficiency_setup.py): the scene
   pool, a held-out ProcSpatial set large enough for small per-task noise, and the
   warmed-up starting solver (`--solver`, default the shipped `tiny-seeing`);
2. sample pools from the programmatic proposer and the verifier, sized for the largest
   checkpoint (bench/loop_efficiency_pooling.py);
3. rounds of uniform quotas over every (task, level), filled with each arm's yield, each
   trained for one pass (`SolverTrainer`, continuing from the previous round), with the
   held-out set evaluated whenever the sample count reaches the next checkpoint.

Writes OUT/results.json, OUT/tables.md and OUT/frontier.png (`--plot` elsewhere) and
prints the table. Finished rounds and evaluations are reused, so a run resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_common import quiet_console
from loop_efficiency import CI_LOOP, _quiet
from loop_efficiency_output import markdown
from loop_efficiency_pooling import Pools, build_pools
from loop_efficiency_pools import CPU_WARMUP, FRONTIER_OVERRIDES, PooledSize, one_pass_steps
from loop_efficiency_pools import SIZES as POOL_SIZES
from loop_efficiency_stats import frontier_table
from rich.console import Console

from scenes.schema import list_scene_dirs


@dataclass
class FrontierSize(PooledSize):
    """One configuration of the frontier check (the warm-up is the pooled experiment's)."""

    checkpoints: list[int] = field(
        metadata={
            "help": "Sample counts at which the held-out set is evaluated; the first after 0 is "
            "the baseline of the learned rule (answer formats are learned by then)."
        }
    )
    round_samples: int = field(metadata={"help": "At most this many samples per SFT iteration."})
    gain: float = field(default=0.10, metadata={"help": "Gain over the baseline that counts."})


SIZES = {
    "ci": FrontierSize(
        description="Smoke test: checkpoints at 0, 8 and 16 samples (tests/bench).",
        overrides=CI_LOOP,
        warmup=POOL_SIZES["ci"].warmup,
        pool_per_arm=1,
        checkpoints=[0, 8, 16],
        round_samples=8,
    ),
    "cpu": FrontierSize(
        description="Tiny seeing solver on a shared 2-core CPU: 0 to 8k samples.",
        overrides=FRONTIER_OVERRIDES,
        warmup=CPU_WARMUP,
        pool_per_arm=150,
        checkpoints=[0, 128, 1000, 2000, 4000, 8000],
        round_samples=500,
    ),
}


class StaticRun:
    """The static arm of one seed: uniform rounds from the pools, trained and evaluated."""

    def __init__(self, cfg: Any, shared: Any, pools: Pools, arms: list, out: Path, seed: int):
        self.cfg, self.shared, self.pools, self.arms, self.seed = cfg, shared, pools, arms, seed
        self.folder = out / "runs" / f"static-seed{seed}"
        self.dirs = {d.name: d for d in list_scene_dirs(shared.scenes_dir)}
        self.mean_yield = statistics.mean(pools.fill.get(arm, 0.0) for arm in arms) or 1.0

    def evaluate(self, model: str, samples: int) -> dict[str, Any]:
        from loop_efficiency_setup import _evaluate

        path = self.folder / f"eval_{samples:05d}.json"
        return point(_evaluate(self.cfg, model, self.shared.eval_dir, path), samples)

    def train(self, batch: list[Any], round_index: int) -> str:
        from graphs.runtime import training_settings
        from training.iterations import SolverTrainer

        settings = training_settings(self.cfg, self.shared.start_model)
        steps = one_pass_steps(len(batch), settings.global_batch_size)
        trainer = SolverTrainer(settings.replace(steps_per_iteration=steps), self.folder / "train")
        return str(trainer.train_iteration(batch, self.dirs, round_index).model_dir)

    def left(self) -> int:
        """Pool samples not drawn yet."""
        return sum(len(group) - self.pools.cursor[arm] for arm, group in self.pools.order.items())

    def run(self, checkpoints: list[int], round_samples: int, on_round: Any) -> dict[str, Any]:
        """Rounds until each checkpoint's sample count is reached; an evaluation at each."""
        from agents.curriculum import make_policy

        self.folder.mkdir(parents=True, exist_ok=True)
        model, samples, points, rounds = self.shared.start_model, 0, [], []
        if checkpoints[0] == 0:  # the starting solver's evaluation is the shared one
            start = self.folder / "eval_00000.json"
            if not start.exists():
                shutil.copyfile(self.shared.start_eval, start)
            points.append(self.evaluate(model, 0))
        for target in [c for c in checkpoints if c > 0]:
            while samples < target:
                wanted = min(round_samples, target - samples)
                slots = max(1, math.ceil(wanted / self.mean_yield))
                index = len(rounds)  # fresh tie-breaks each round, as the pooled static arm
                seed = random.Random(f"{self.seed}:{index}").randrange(2**31)
                policy = make_policy("uniform", seed=seed)
                batch, _ = self.pools.draw(policy.allocate(self.arms, slots), index)
                if not batch and not self.left():
                    points.append(self.evaluate(model, samples))
                    return {"points": points, "rounds": rounds, "exhausted_at": samples}
                rounds.append({"slots": slots, "samples": len(batch), "total": samples})
                if not batch:  # unlucky fill of a few slots: draw again
                    continue
                model = self.train(batch, index)
                samples += len(batch)
                rounds[-1]["total"] = samples
                on_round(samples, target)
            points.append(self.evaluate(model, samples))
        return {"points": points, "rounds": rounds, "exhausted_at": None}


def point(report: dict[str, Any], samples: int) -> dict[str, Any]:
    """One checkpoint of a curve: overall and per-task scores, and questions per task."""
    from loop_efficiency_setup import heldout_summary

    tasks = {**report["result"]["tasks"], **(report["result"].get("extra_tasks") or {})}
    return {
        "samples": samples,
        **heldout_summary(report),
        "counts": {name: task["count"] for name, task in tasks.items()},
        "majority": most_common_share(report, list(tasks), "ground_truth", choice_only=True),
        "top_answer": most_common_share(report, list(tasks), "answer", choice_only=False),
    }


def most_common_share(
    report: dict[str, Any], tasks: list[str], column: str, choice_only: bool
) -> dict[str, float]:
    """Per task, the share of the most common value of `column` over its questions (sub-types
    such as `_easy` pooled). For the right letter: what answer priors alone reach; for the
    solver's answers: near 1 when it gives one answer whatever it is shown."""
    values: dict[str, Counter] = {}
    for row in report["predictions"]:
        if choice_only and row["answer_kind"] != "multiple_choice":
            continue
        kind = row["question_type"]
        task = kind if kind in tasks else next((t for t in tasks if kind.startswith(t)), kind)
        values.setdefault(task, Counter())[row[column]] += 1
    return {t: c.most_common(1)[0][1] / sum(c.values()) for t, c in values.items()}


def finished_runs(out: Path) -> list[dict[str, Any]]:
    """Each seed's checkpoints evaluated so far (OUT/runs/static-seed*/eval_NNNNN.json)."""
    runs = []
    for folder in sorted(out.glob("runs/static-seed*")):
        evals = sorted(folder.glob("eval_*.json"))
        points = [
            point(json.loads(path.read_text(encoding="utf-8")), int(path.stem.split("_")[1]))
            for path in evals
        ]
        runs.append({"seed": int(folder.name.removeprefix("static-seed")), "points": points})
    return runs


def table(results: dict[str, Any]) -> tuple[list[str], list[list[str]], list[dict]]:
    """Per task: questions, the seed-mean score at each checkpoint, and early / late / never."""
    runs = [{"rounds": r["points"]} for r in results["runs"]]
    rows = frontier_table(runs, gain=results["config"]["gain"], baseline=1)
    samples = [
        round(statistics.mean(r["points"][i]["samples"] for r in results["runs"]))
        for i in range(len(rows[0]["curve"]) if rows else 0)
    ]
    counts = results["runs"][0]["points"][0]["counts"]
    priors = results["runs"][0]["points"][0].get("majority", {})
    last = [r["points"][-1].get("top_answer", {}) for r in results["runs"]]
    top = {t: statistics.mean(x.get(t, 0.0) for x in last) for t in last[0]}
    header = ["task", "questions", "most common answer", *[f"{n} samples" for n in samples]]
    header += ["learned", "solver's most common answer (last point)"]
    body = [
        [
            row["task"],
            str(counts.get(row["task"], 0)),
            f"{100 * priors[row['task']]:.0f}" if row["task"] in priors else "-",
            *[f"{100 * v:.0f}" for v in row["curve"]],
            row["learned"],
            f"{100 * top[row['task']]:.0f}" if row["task"] in top else "-",
        ]
        for row in rows
    ]
    overall = [
        statistics.mean(r["points"][i]["overall"] for r in results["runs"])
        for i in range(len(samples))
    ]
    body.append(["overall", str(sum(counts.values())), "", *[f"{100 * v:.1f}" for v in overall]])
    body[-1] += ["", ""]
    return header, body, rows


def plot(results: dict[str, Any], rows: list[dict], path: Path) -> Path:
    """One line per task over the sample count (symlog axis: 0 and 8k on one plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = [
        statistics.mean(r["points"][i]["samples"] for r in results["runs"])
        for i in range(len(rows[0]["curve"]))
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 5), sharey=True)
    for ax, kind in zip(axes, ("early", "late", "never"), strict=True):
        for row in (r for r in rows if r["learned"] == kind):
            ax.plot(samples, [100 * v for v in row["curve"]], marker="o", ms=3, label=row["task"])
        ax.set_xscale("symlog", linthresh=100)
        ax.set_title(f"learned {kind} ({sum(r['learned'] == kind for r in rows)} tasks)")
        ax.set_xlabel("training samples (static arm)")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    axes[0].set_ylabel("held-out score (%)")
    fig.suptitle(f"Frontier check: {results['solver']}, seeds {results['seeds']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from loop_efficiency_setup import build_shared
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from agents.sample_io import read_samples
    from graphs.config import load_config
    from graphs.runtime import proposer_arms

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/frontier"))
    parser.add_argument("--solver", default="tiny-seeing", help="Solver to start from.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="Training seeds.")
    parser.add_argument("--checkpoints", type=int, nargs="+", help="Override the size's.")
    parser.add_argument("--plot", type=Path, help="Where the plot goes (default OUT/frontier.png).")
    parser.add_argument("--threads", type=int, default=1, help="torch threads.")
    parser.add_argument(
        "--report",
        action="store_true",
        help="Only rewrite the table and plot from the checkpoints evaluated so far.",
    )
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    if args.report:
        runs = finished_runs(args.out)
        length = min(len(r["points"]) for r in runs)
        runs = [{**r, "points": r["points"][:length]} for r in runs]
        seeds = [r["seed"] for r in runs]
        results = {"solver": args.solver, "seeds": seeds, "config": asdict(size), "runs": runs}
        return write(args, size, results, Console())
    if args.checkpoints:
        size.checkpoints = sorted(args.checkpoints)
    console = quiet_console(args.threads)
    out = args.out
    (out / "logs").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = [*size.overrides, f"solver.model={args.solver}", "seed=0"]
    with console.status("scene pool, held-out set, warm-up"), _quiet(out / "logs" / "shared.log"):
        shared = build_shared(out, load_config("cpu-tiny", overrides=base), size.warmup)
    console.print(f"shared set-up {time.perf_counter() - started:.0f} s")
    cfg = load_config("cpu-tiny", overrides=[*base, f"solver.model={shared.start_model}"])
    with console.status("sample pools"), _quiet(out / "logs" / "pools.log"):
        record = build_pools(cfg, shared.scenes_dir, size.pool_per_arm, out)
    pool = read_samples(out / "pool.parquet")
    arms = proposer_arms(cfg)  # the configured (programmatic) proposer's, as the pools
    console.print(
        f"set-up {time.perf_counter() - started:.0f} s: pool of {len(pool)} accepted samples "
        f"over {sum(1 for v in record['made'].values() if v)} of {len(arms)} (task, level) arms"
    )
    runs = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        for seed in args.seeds:
            seeded = load_config(
                "cpu-tiny",
                overrides=[
                    *base,
                    f"training.settings.seed={seed}",
                    f"solver.model={shared.start_model}",
                ],
            )
            run = StaticRun(seeded, shared, Pools(pool, record, seed, 0), arms, out, seed)
            task = bar.add_task(f"seed {seed}: samples", total=size.checkpoints[-1])
            with _quiet(out / "logs" / f"static-seed{seed}.log"):
                record_run = run.run(
                    size.checkpoints,
                    size.round_samples,
                    lambda done, _t, task=task: bar.update(task, completed=done),
                )
            runs.append({"seed": seed, **record_run})
    results = {
        "size": args.size,
        "solver": args.solver,
        "config": asdict(size),
        "seeds": args.seeds,
        "pools": record,
        "warmup": shared.warmup,
        "runs": runs,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    return write(args, size, results, console)


def write(args: Any, size: FrontierSize, results: dict[str, Any], console: Console) -> dict:
    """results.json, tables.md and the plot under OUT; prints the table."""
    out = args.out
    header, body, rows = table(results)
    text = (
        f"Frontier check ({results['solver']}, seeds {results['seeds']}): held-out score (%) per task by "
        f"training samples; learned early / late / never: a gain of {100 * size.gain:.0f} points "
        f"over the {results['runs'][0]['points'][1]['samples']}-sample point at the next "
        "checkpoints' first half / only their second half / not at all.\n\n"
        + markdown(header, body)
    )
    if not args.report:  # a report from a run still going leaves its results alone
        (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "tables.md").write_text(text + "\n", encoding="utf-8")
    plot(results, rows, args.plot or out / "frontier.png")
    console.print(text)
    if "wall_s" in results:
        console.print(f"wall time {results['wall_s'] / 60:.1f} min; results in {out}")
    return results


if __name__ == "__main__":
    main()
