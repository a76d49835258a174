"""Which difficulty signal makes the loop pay? Arms drawing from shared sample pools.

    .venv/bin/python bench/loop_efficiency_pools.py --size cpu --out runs/loop-pools

The proposal cost is paid once: the programmatic proposer and the verifier fill a pool
of accepted samples per (task, level) from the shared scene pool, and record each arm's
yield (accepted per requested slot). Every run then starts from the same warmed-up
solver (bench/loop_efficiency_setup.py) and, each round, asks its policy for `budget`
slots, fills each slot with the arm's yield (an exhausted pool fills nothing), scores the
new samples with its signal, trains the same SFT steps on them and is evaluated on the
held-out set. Arms differ only in what they pick:

- static: uniform quotas, no feedback (curated data);
- token_confidence (the paper's signal), expected_score, solve_rate, learning_progress:
  the yield-aware policy (agents/curriculum.py) reading that signal;
- shuffled: expected_score with its values permuted across the round's samples (control).

Round 0 has no feedback in any arm, so it is the same uniform draw for all arms of a
seed and is trained once per seed. Seeds are paired: seed k draws each arm's pool in
the same order and fills slots with the same random stream in every arm. Writes
OUT/results.json and OUT/tables.md and prints the tables; finished runs are reused.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loop_efficiency import CI_LOOP, CPU_LOOP, _quiet
from loop_efficiency_pooling import Pools, build_pools
from loop_efficiency_stats import markdown_tables as tables
from rich.console import Console

from training.warmup import WarmupConfig

ARMS = (
    "static",
    "token_confidence",
    "expected_score",
    "solve_rate",
    "learning_progress",
    "shuffled",
)
Arm = tuple[str, int]


@dataclass
class PooledSize:
    """What every benchmark over shared sample pools sizes: the config, pool and warm-up."""

    description: str = field(metadata={"help": "What this size is for."})
    overrides: list[str] = field(metadata={"help": "Loop config overrides shared by every arm."})
    pool_per_arm: int = field(metadata={"help": "Slots requested per (task, level) for the pool."})
    warmup: WarmupConfig = field(metadata={"help": "The perception warm-up (steps=0: none)."})


@dataclass
class PoolSize(PooledSize):
    """One configuration of the pooled signal experiment."""

    rounds: int = field(metadata={"help": "Rounds per run (round 0 included)."})
    budget: int = field(metadata={"help": "Slots requested per round."})
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    signal_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    one_pass: bool = field(
        default=False,
        metadata={
            "help": "Train one pass over each round's samples (steps = samples / batch) "
            "instead of the config's fixed steps_per_iteration, as bench/frontier.py does."
        },
    )


#: The pooled cpu settings (learning rate, batch, frames) over 96 rooms and the 1,269-question
#: held-out set of the frontier check (bench/frontier.py uses the same).
FRONTIER_OVERRIDES = [
    "scenes.num=96",
    "training.settings.learning_rate=0.0002",
    "evaluation.settings.size=1320",
    "evaluation.settings.num_scenes=24",
]
CPU_WARMUP = WarmupConfig(num_scenes=8, questions_per_scene=30, steps=120)


SIGNAL_SETTINGS = {
    "expected_score": {"grid_size": 21},
    "learning_progress": {"grid_size": 21, "probe_per_arm": 4},
    "solve_rate": {"samples": 8},
}
SIZES = {
    "ci": PoolSize(
        description="Smoke test: 2 rounds of 8 slots, one seed (tests/bench).",
        overrides=[*CI_LOOP, "training.settings.steps_per_iteration=1"],
        rounds=2,
        budget=8,
        pool_per_arm=3,
        seeds=[0],
        warmup=WarmupConfig(
            num_scenes=2,
            frames=8,
            width=64,
            height=48,
            question_frames=2,
            questions_per_scene=6,
            steps=2,
            check_scenes=0,
        ),
        signal_settings={
            "expected_score": {"grid_size": 5},
            "learning_progress": {"grid_size": 5, "probe_per_arm": 1},
            "solve_rate": {"samples": 2},
        },
    ),
    "cpu": PoolSize(
        description="Tiny solver on a shared 2-core CPU: 5 rounds of 32 slots, 5 seeds.",
        overrides=[
            *[
                o
                for o in CPU_LOOP
                if not o.startswith(("training.settings.steps", "evaluation.settings.size"))
            ],
            "training.settings.steps_per_iteration=8",
            "evaluation.settings.size=120",
        ],
        rounds=5,
        budget=32,
        pool_per_arm=12,
        warmup=CPU_WARMUP,
        signal_settings=SIGNAL_SETTINGS,
    ),
    "cpu-long": PoolSize(
        description="As cpu, with 8 rounds of 64 slots (16 SFT steps each): up to ~500 samples.",
        overrides=[
            *[
                o
                for o in CPU_LOOP
                if not o.startswith(("training.settings.steps", "evaluation.settings.size"))
            ],
            "training.settings.steps_per_iteration=16",
            "evaluation.settings.size=120",
        ],
        rounds=8,
        budget=64,
        pool_per_arm=16,
        warmup=CPU_WARMUP,
        signal_settings=SIGNAL_SETTINGS,
    ),
    "frontier": PoolSize(
        description="At the frontier check's scale: 9 rounds of 500 slots (~4.5k samples), "
        "one pass over each round's samples, 96 rooms, 1,269 held-out questions.",
        overrides=FRONTIER_OVERRIDES,
        rounds=9,
        budget=500,
        pool_per_arm=150,
        warmup=CPU_WARMUP,
        signal_settings=SIGNAL_SETTINGS,
        one_pass=True,
    ),
}


def one_pass_steps(samples: int, batch_size: int) -> int:
    """SFT steps that see each of `samples` once (bench/frontier.py trains this way too)."""
    return max(1, math.ceil(samples / batch_size))


def round_steps(size: PoolSize, samples: int, batch_size: int) -> int | None:
    """SFT steps for a round of `samples`: one pass with `one_pass`, else None (the config's)."""
    return one_pass_steps(samples, batch_size) if size.one_pass else None


def _arm_of(sample: Any) -> Arm:
    return (sample.proposal.question_type, sample.proposal.level)


class Runner:
    """Everything a run needs that is shared: config, scenes, held-out set, pools."""

    def __init__(
        self, size: PoolSize, cfg: Any, shared: Any, pool: list[Any], record: dict, out: Path
    ):
        from scenes.schema import Scene, list_scene_dirs

        self.size, self.cfg, self.shared, self.pool, self.record, self.out = (
            size,
            cfg,
            shared,
            pool,
            record,
            out,
        )
        self.scenes = {s.id: s for s in (Scene.load(d) for d in list_scene_dirs(shared.scenes_dir))}
        self.dirs = {scene_id: shared.scenes_dir / scene_id for scene_id in self.scenes}
        from graphs.runtime import proposer_arms

        self.arms = proposer_arms(cfg)  # the configured (programmatic) proposer's, as the pools

    def pools(self, seed: int) -> Pools:
        probe = self.size.signal_settings.get("learning_progress", {}).get("probe_per_arm", 4)
        return Pools(self.pool, self.record, seed, probe)

    def train_and_evaluate(
        self, run_dir: Path, batch: list[Any], round_index: int
    ) -> tuple[str, dict]:
        from loop_efficiency_setup import _evaluate, heldout_summary

        from graphs.runtime import training_settings
        from training.iterations import SolverTrainer

        settings = training_settings(self.cfg, self.shared.start_model)
        steps = round_steps(self.size, len(batch), settings.global_batch_size)
        settings = settings.replace(steps_per_iteration=steps or settings.steps_per_iteration)
        result = SolverTrainer(settings, run_dir / "training").train_iteration(
            batch, self.dirs, round_index
        )
        model = str(result.model_dir)
        report = _evaluate(
            self.cfg, model, self.shared.eval_dir, run_dir / f"eval_{round_index:02d}.json"
        )
        return model, heldout_summary(report)

    def score(
        self, signal_name: str, model: str, batch: list[Any], seed: int, round_index: int
    ) -> list[Any]:
        """The batch carrying the signal's p and learnability, as the loop's score step writes it."""
        from agents.signals import make_signal
        from agents.solver.items import SolverItem
        from agents.solver.solver import Solver
        from graphs.runtime import solver_settings

        if not batch:
            return []
        name = "expected_score" if signal_name == "shuffled" else signal_name
        signal = make_signal(name, self.size.signal_settings.get(name, {}))
        solver = Solver(solver_settings(self.cfg, model))
        items = [
            SolverItem.from_sample(
                s,
                self.dirs[s.proposal.scene_id],
                self.scenes[s.proposal.scene_id],
                solver.config.num_frames,
            )
            for s in batch
        ]
        values = signal.score(solver, items)
        if signal_name == "shuffled":
            order = list(range(len(values)))
            random.Random(f"{seed}:{round_index}:shuffle").shuffle(order)
            values = [
                values[i].model_copy(update={"sample_id": values[k].sample_id})
                for k, i in enumerate(order)
            ]
        return [v.apply_to(s) for s, v in zip(batch, values, strict=True)]

    def probe_means(self, model: str, probe: list[Any]) -> dict[Arm, float]:
        from agents.signals import make_signal
        from agents.solver.items import SolverItem
        from agents.solver.solver import Solver
        from graphs.runtime import solver_settings

        signal = make_signal(
            "learning_progress", self.size.signal_settings.get("learning_progress", {})
        )
        solver = Solver(solver_settings(self.cfg, model))
        items = [
            SolverItem.from_sample(
                s,
                self.dirs[s.proposal.scene_id],
                self.scenes[s.proposal.scene_id],
                solver.config.num_frames,
            )
            for s in probe
        ]
        return signal.probe_means(solver, items, [_arm_of(s) for s in probe])

    def round_zero(self, seed: int) -> dict[str, Any]:
        """The uniform first round of every arm of `seed`: drawn, trained and evaluated once."""
        from agents.curriculum import make_policy

        folder = self.out / "runs" / f"seed{seed}-round0"
        path = folder / "round0.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        pools = self.pools(seed)
        quotas = make_policy("uniform", seed=seed).allocate(self.arms, self.size.budget)
        batch, made = pools.draw(quotas, 0)
        model, heldout = self.train_and_evaluate(folder, batch, 0)
        data = {
            "quotas": [[t, lvl, n] for (t, lvl), n in sorted(quotas.items())],
            "made": [[t, lvl, n] for (t, lvl), n in sorted(made.items())],
            "sample_ids": [s.sample_id for s in batch],
            "model": model,
            "heldout": heldout,
            "training_dir": str(folder / "training"),
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return data

    def run(self, arm: str, seed: int) -> dict[str, Any]:
        """One (arm, seed) run; its record is saved and reused."""
        from agents.bands import BandThresholds
        from agents.curriculum import make_policy, merge, summarize
        from agents.signals import make_signal

        folder = self.out / "runs" / f"{arm}-seed{seed}"
        path = folder / "run.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        zero = self.round_zero(seed)
        folder.mkdir(parents=True, exist_ok=True)
        stage_dir = folder / "training" / "sft"
        stage_dir.mkdir(parents=True, exist_ok=True)
        link = stage_dir / "iteration-000"
        if not link.exists():
            link.symlink_to(
                (Path(zero["training_dir"]) / "sft" / "iteration-000").resolve(),
                target_is_directory=True,
            )
        pools = self.pools(seed)
        quotas = {(t, lvl): n for t, lvl, n in zero["quotas"]}
        batch, _ = pools.draw(quotas, 0)
        assert [s.sample_id for s in batch] == zero["sample_ids"], "round 0 differs between arms"
        start = self.record_start()
        rounds = [
            start,
            {
                "samples": len(batch),
                "requested": self.size.budget,
                "overall": zero["heldout"]["overall"],
                "tasks": zero["heldout"]["tasks"],
                "quotas": zero["quotas"],
            },
        ]
        model_before, model = self.shared.start_model, zero["model"]
        policy = make_policy("uniform" if arm == "static" else "yield_bandit", seed=seed)
        feedback, probe_rounds, heldout = None, [], zero["heldout"]["tasks"]
        lp = make_signal(
            "learning_progress", self.size.signal_settings.get("learning_progress", {})
        )
        for r in range(1, self.size.rounds):
            if arm != "static":  # the feedback from the round just trained on (scored before)
                scored = self.score(arm, model_before, batch, seed, r - 1)
                current = summarize(scored, BandThresholds(), quotas)
                current.heldout = heldout
                feedback = merge(feedback, current, self.cfg.loop.feedback_decay)
                if arm == "learning_progress":
                    probe_rounds.append(self.probe_means(model_before, pools.probe))
                    progress = lp.progress(probe_rounds)
                    if progress:
                        best = max(progress.values())
                        feedback = feedback.model_copy(
                            update={
                                "arms": [
                                    a.model_copy(
                                        update={
                                            "mean_learnability": min(1.0, progress.get(a.arm, best))
                                        }
                                    )
                                    for a in feedback.arms
                                ]
                            }
                        )
            # fresh tie-breaks each round (agents.curriculum.round_rng): with fewer slots
            # than (task, level) arms, a fixed seed would ask for the same arms every round
            quotas = policy.allocate(self.arms, self.size.budget, feedback, round_index=r)
            batch, made = pools.draw(quotas, r)
            model_before = model
            if batch:
                model, summary = self.train_and_evaluate(folder, batch, r)
                heldout = summary["tasks"]
            else:
                summary = {"overall": rounds[-1]["overall"], "tasks": rounds[-1]["tasks"]}
            rounds.append(
                {
                    "samples": rounds[-1]["samples"] + len(batch),
                    "requested": rounds[-1]["requested"] + self.size.budget,
                    "overall": summary["overall"],
                    "tasks": summary["tasks"],
                    "quotas": [
                        [t, lvl, n, made[(t, lvl)]] for (t, lvl), n in sorted(quotas.items())
                    ],
                }
            )
        data = {"arm": arm, "seed": seed, "rounds": rounds}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return data

    def record_start(self) -> dict[str, Any]:
        from loop_efficiency_setup import heldout_summary

        report = json.loads(Path(self.shared.start_eval).read_text(encoding="utf-8"))
        summary = heldout_summary(report)
        return {
            "samples": 0,
            "requested": 0,
            "overall": summary["overall"],
            "tasks": summary["tasks"],
            "quotas": [],
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import torch
    from datasets.utils.logging import disable_progress_bar
    from loop_efficiency import arm_overrides
    from loop_efficiency_setup import build_shared
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from transformers.utils import logging as hf_logging

    from agents.sample_io import read_samples
    from graphs.config import load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/loop-pools"))
    parser.add_argument("--seeds", type=int, nargs="+", help="Override the size's seeds.")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument(
        "--solver",
        default="tiny-seeing",
        help="Solver every arm starts from before the warm-up (cpu-tiny's; 'tiny': random).",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads.")
    parser.add_argument(
        "--report",
        action="store_true",
        help="Only rewrite OUT/tables.md from the runs finished so far (OUT/runs/*/run.json).",
    )
    args = parser.parse_args(argv)
    if args.report:
        return report(args.out, args.size, args.arms)
    size = SIZES[args.size]
    seeds = args.seeds or size.seeds
    torch.set_num_threads(args.threads)
    disable_progress_bar()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
    out = args.out
    (out / "logs").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = arm_overrides(_as_loop_size(size), "static", 0, args.solver)
    cfg = load_config("cpu-tiny", overrides=base)
    with (
        console.status("scene pool, held-out set, warm-up, sample pools"),
        _quiet(out / "logs" / "shared.log"),
    ):
        shared = build_shared(out, cfg, size.warmup)
        cfg = load_config(
            "cpu-tiny",
            overrides=arm_overrides(_as_loop_size(size), "static", 0, shared.start_model),
        )
        record = build_pools(cfg, shared.scenes_dir, size.pool_per_arm, out)
    pool = read_samples(out / "pool.parquet")
    console.print(
        f"set-up {time.perf_counter() - started:.0f} s: pool of {len(pool)} accepted samples over "
        f"{sum(1 for v in record['made'].values() if v)} of {len(record['made'])} (task, level) arms"
    )
    runner = Runner(size, cfg, shared, pool, record, out)
    runs = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("runs", total=len(seeds) * len(args.arms))
        for seed in seeds:
            for arm in args.arms:
                bar.update(task, description=f"runs ({arm}, seed {seed})")
                with _quiet(out / "logs" / f"{arm}-seed{seed}.log"):
                    runs.append(runner.run(arm, seed))
                bar.advance(task)
    results = {
        "size": args.size,
        "solver": args.solver,
        "config": asdict(size),
        "arms": args.arms,
        "seeds": seeds,
        "rounds": size.rounds,
        "budget": size.budget,
        "pool_per_arm": size.pool_per_arm,
        "pools": record,
        "warmup": shared.warmup,
        "runs": runs,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    text = tables(results)
    (out / "results.json").write_text(
        json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8"
    )
    (out / "tables.md").write_text(text, encoding="utf-8")
    console.print(text)
    console.print(f"wall time {results['wall_s'] / 60:.1f} min; results in {out}")
    return results


def report(out: Path, size_name: str, arms: list[str]) -> dict[str, Any]:
    """Tables from whatever runs have finished (complete seeds only, so pairs stay paired)."""
    size = SIZES[size_name]
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("runs/*/run.json"))]
    found = sorted({r["seed"] for r in runs})
    complete = [
        s for s in found if all(any(r["arm"] == a and r["seed"] == s for r in runs) for a in arms)
    ]
    runs = [r for r in runs if r["seed"] in complete and r["arm"] in arms]
    results = {
        "size": size_name,
        "arms": arms,
        "seeds": complete,
        "rounds": size.rounds,
        "budget": size.budget,
        "pool_per_arm": size.pool_per_arm,
        "runs": runs,
    }
    text = tables(results)
    (out / "tables.md").write_text(text, encoding="utf-8")
    print(text)
    return results


def _as_loop_size(size: PoolSize) -> Any:
    from loop_efficiency import ExperimentSize

    return ExperimentSize(
        description=size.description,
        overrides=size.overrides,
        iterations=size.rounds,
        warmup=size.warmup,
    )


if __name__ == "__main__":
    main()
