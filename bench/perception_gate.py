"""Can the tiny solver see? The perception gate of issue #14, measured on unseen rooms.

    .venv/bin/python bench/perception_gate.py --out runs/perception-gate

For each starting solver (the random tiny solver, and the seeing one whose vision tower
was pretrained on dense labels, `agents/solver/weights/seeing-tiny`):

1. the loop's normal SFT (`training.warmup.train_warmup`: TRL SFT through
   `training.iterations.SolverTrainer`, cpu-tiny's settings, the vision tower frozen) on
   the perception questions of `training/warmup.py` about the warm-up's rooms
   (seeds 500,000 up);
2. greedy answers to the same kinds of questions about further rooms nobody trained on
   (the seeds right after), scored by exact match.

The gate: accuracy minus the share of the most common answer (what a solver that cannot
see reaches) is at least 25 points. Prints a table; writes OUT/results.json. Finished
steps are reused, so a rerun after a change to the table costs nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.sample_io import read_samples, write_samples  # noqa: E402
from agents.solver.weights import SEEING_TINY_DIR  # noqa: E402
from common.io import atomic_directory, atomic_write_text  # noqa: E402
from graphs.config import load_config  # noqa: E402
from graphs.runtime import solver_settings, training_settings  # noqa: E402
from scenes.schema import Scene, list_scene_dirs  # noqa: E402
from training.warmup import WarmupConfig, build_warmup_samples, train_warmup  # noqa: E402

GATE_POINTS = 25.0


def _rooms(folder: Path, config: WarmupConfig) -> Path:
    from scenes.procedural import generate_scenes

    if not folder.exists():
        with atomic_directory(folder) as tmp:
            generate_scenes(
                config.num_scenes,
                config.seed,
                tmp,
                config.frames,
                config.width,
                config.height,
                progress=False,
            )
    return folder


def questions(
    folder: Path, config: WarmupConfig, workers: int
) -> tuple[list[Any], dict[str, Path]]:
    """The warm-up's perception questions about `config`'s rooms, with their ground truth."""
    rooms = _rooms(folder / "rooms", config)
    dirs = {Scene.load(d).id: d for d in list_scene_dirs(rooms)}
    path = folder / "samples.parquet"
    if not path.exists():
        from tools.sandbox import make_sandbox

        scenes = [Scene.load(d) for d in dirs.values()]
        with make_sandbox("local", workers=workers) as sandbox:
            write_samples(build_warmup_samples(scenes, config, sandbox), path)
    return read_samples(path), dirs


def accuracy(model: str, cfg: Any, samples: list[Any], dirs: dict[str, Path]) -> dict[str, float]:
    from agents.solver.items import SolverItem
    from agents.solver.solver import Solver

    solver = Solver(solver_settings(cfg, model))
    frames = solver.config.num_frames
    items = [SolverItem.from_sample(s, dirs[s.proposal.scene_id], None, frames) for s in samples]
    right: dict[str, list[bool]] = {}
    for sample, result in zip(samples, solver.answer(items), strict=True):
        right.setdefault(sample.proposal.question_type, []).append(
            result.answer == sample.ground_truth
        )
    return {form: sum(hits) / len(hits) for form, hits in sorted(right.items())}


def starting_solvers(out: Path, seed: int, seeing: Path) -> dict[str, tuple[str, bool]]:
    """Label -> (checkpoint, freeze the vision tower). The random tower is left to train,
    so the baseline keeps every chance to learn to see from the SFT questions alone."""
    from agents.solver.tiny import build_tiny_solver

    random_dir = out / "random-tiny"
    if not random_dir.exists():
        with atomic_directory(random_dir) as tmp:
            build_tiny_solver(tmp, seed=seed)
    return {"random tiny": (str(random_dir), False), "seeing tiny": (str(seeing), True)}


ARMS = ("random tiny", "seeing tiny")


def run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = load_config("cpu-tiny", overrides=list(args.set))
    train = WarmupConfig(
        num_scenes=args.train_scenes,
        questions_per_scene=args.questions_per_scene,
        steps=args.steps,
        check_scenes=args.check_scenes,
    )
    check_seed = args.check_seed if args.check_seed is not None else train.seed + train.num_scenes
    check = replace(train, seed=check_seed, num_scenes=train.check_scenes, check_scenes=0)
    if check.seed < train.seed + train.num_scenes and train.seed < check.seed + check.num_scenes:
        raise SystemExit(
            f"--check-seed {check.seed}: the check rooms overlap the SFT rooms "
            f"{train.seed}..{train.seed + train.num_scenes - 1}; pick seeds after them"
        )
    check.check()
    train.check()
    train_samples, train_dirs = questions(args.out / "train", train, cfg.sandbox.workers)
    check_samples, check_dirs = questions(args.out / "check", check, cfg.sandbox.workers)
    truths: dict[str, Counter[str]] = {}
    for sample in check_samples:
        truths.setdefault(sample.proposal.question_type, Counter())[sample.ground_truth] += 1
    record: dict[str, Any] = {
        "train_questions": len(train_samples),
        "train_seeds": [train.seed, train.seed + train.num_scenes - 1],
        "check_questions": len(check_samples),
        "check_seeds": [check.seed, check.seed + check.num_scenes - 1],
        "counts": {form: sum(c.values()) for form, c in sorted(truths.items())},
        "majority": {
            form: c.most_common(1)[0][1] / sum(c.values()) for form, c in sorted(truths.items())
        },
        "steps": train.steps,
        "solvers": {},
    }
    for label, (model, freeze) in starting_solvers(args.out, cfg.seed, args.seeing).items():
        if label not in args.arms:
            continue
        folder = args.out / label.replace(" ", "-")
        result_path = folder / "result.json"
        if result_path.exists():
            record["solvers"][label] = json.loads(result_path.read_text(encoding="utf-8"))
            continue
        started = time.perf_counter()
        before = accuracy(model, cfg, check_samples, check_dirs)
        preset = training_settings(cfg, model)
        settings = preset.replace(
            steps_per_iteration=train.steps,
            freeze_vision_tower=freeze,
            freeze_projector=freeze and preset.freeze_projector,
        )
        trained = train_warmup(train_samples, train_dirs, settings, folder / "training")
        result = {
            "model": model,
            "freeze_vision_tower": settings.freeze_vision_tower,
            "freeze_projector": settings.freeze_projector,
            "first_loss": trained.losses[0] if trained.losses else None,
            "last_loss": trained.losses[-1] if trained.losses else None,
            "accuracy_before_sft": before,
            "accuracy": accuracy(str(trained.model_dir), cfg, check_samples, check_dirs),
            "seconds": round(time.perf_counter() - started, 1),
        }
        atomic_write_text(result_path, json.dumps(result, indent=1) + "\n")
        record["solvers"][label] = result
    return record


def table(record: dict[str, Any]) -> Table:
    labels = list(record["solvers"])
    out = Table(title=f"Perception on unseen rooms after {record['steps']} SFT steps (accuracy %)")
    for name in ["question", "n", "most common answer", *labels, f"margin ({labels[-1]})", "gate"]:
        out.add_column(name)
    forms = list(record["majority"])
    rows = [(f, record["counts"][f], record["majority"][f]) for f in forms]
    mean_majority = sum(m for _, _, m in rows) / len(rows)
    for form, count, majority in [
        *rows,
        ("mean over forms", record["check_questions"], mean_majority),
    ]:
        scores = [_score(record["solvers"][label]["accuracy"], form) for label in labels]
        margin = 100 * (scores[-1] - majority)
        out.add_row(
            form.removeprefix("perception_"),
            str(count),
            f"{100 * majority:.1f}",
            *(f"{100 * s:.1f}" for s in scores),
            f"{margin:+.1f}",
            "pass" if margin >= GATE_POINTS else "fail",
        )
    return out


def _score(accuracy: dict[str, float], form: str) -> float:
    if form == "mean over forms":
        return sum(accuracy.values()) / len(accuracy)
    return accuracy.get(form, 0.0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/perception-gate"))
    parser.add_argument("--train-scenes", type=int, default=8, help="Rooms SFT asks about.")
    parser.add_argument("--check-scenes", type=int, default=8, help="Unseen rooms to measure on.")
    parser.add_argument(
        "--check-seed",
        type=int,
        default=None,
        help="First seed of the check rooms (default: right after the SFT rooms).",
    )
    parser.add_argument("--questions-per-scene", type=int, default=30)
    parser.add_argument("--steps", type=int, default=120, help="SFT steps (global batch 4).")
    parser.add_argument(
        "--seeing", type=Path, default=SEEING_TINY_DIR, help="The seeing solver's folder."
    )
    parser.add_argument(
        "--arms", nargs="+", default=list(ARMS), choices=ARMS, help="Starting solvers to compare."
    )
    parser.add_argument("--threads", type=int, default=1, help="Torch threads (1: fastest here).")
    parser.add_argument(
        "--set", action="append", default=[], help="Loop config override (repeatable)."
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    record = run(args)
    atomic_write_text(args.out / "results.json", json.dumps(record, indent=1) + "\n")
    Console().print(table(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
