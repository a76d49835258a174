"""What every arm of the loop-efficiency experiment shares, built once before they split.

    OUT/shared/scenes/            the loop's scene pool (same for every arm and seed)
    OUT/shared/eval/procspatial/  the held-out benchmark (seeds from the reserved range)
    OUT/warmup/scenes/            the warm-up's own scenes (apart from pool and held-out)
    OUT/warmup/initial/           the untrained tiny solver (tiny sizes only)
    OUT/warmup/samples.parquet    the perception questions the warm-up trains on
    OUT/warmup/training/          the warm-up's SFT run; its checkpoint starts every arm
    OUT/warmup/eval_before.json   held-out result before the warm-up
    OUT/warmup/eval_after.json    ... and after it (every run's baseline, eval_initial.json)
    OUT/warmup/check/             perception questions on further unseen scenes, and the
                                  solver's accuracy on them before and after (can it see?)

Each step is skipped when its output exists, so an interrupted experiment resumes.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agents.sample_io import read_samples, write_samples
from common.io import atomic_directory, atomic_write_text
from graphs.config import RunConfig
from graphs.runtime import procspatial_settings, solver_settings, training_settings
from graphs.store import RunStore
from scenes.schema import Scene, list_scene_dirs
from training.warmup import WarmupConfig, build_warmup_samples, train_warmup


@dataclass
class Shared:
    """Paths every run links to, the model every arm starts from, and the warm-up record."""

    scenes_dir: Path
    eval_dir: Path
    start_model: str
    start_eval: Path
    warmup: dict[str, Any]


def heldout_summary(report: dict[str, Any]) -> dict[str, Any]:
    """Overall (every task type, ours included) and per-task scores of a saved EvalReport,
    as the loop's iteration summary reads them (graphs.summary.HeldOutSummary)."""
    from graphs.summary import HeldOutSummary

    return HeldOutSummary.from_report(report).model_dump(include={"overall", "tasks"})


def _generate(out: Path, num: int, seed: int, frames: int, width: int, height: int) -> Path:
    from scenes.procedural import generate_scenes

    if not out.exists():
        with atomic_directory(out) as tmp:
            generate_scenes(num, seed, tmp, frames, width, height, progress=False)
    return out


def _evaluate(cfg: RunConfig, model: str, eval_dir: Path, path: Path) -> dict[str, Any]:
    """The held-out report of `model`, evaluated exactly as the loop's evaluate node does."""
    import json

    if not path.exists():
        from agents.solver.solver import Solver
        from evaluation.evaluator import evaluate
        from evaluation.procspatial import ProcSpatial

        solver = Solver(solver_settings(cfg, model))
        report = evaluate(
            solver, ProcSpatial.load(eval_dir), batch_size=cfg.evaluation.batch_size, model=model
        )
        atomic_write_text(path, report.model_dump_json(indent=1) + "\n")
    return json.loads(path.read_text(encoding="utf-8"))


def _initial_model(cfg: RunConfig, folder: Path) -> str:
    from agents.solver.weights import TINY_MODELS, write_starting_solver

    if cfg.solver.model not in TINY_MODELS:
        return cfg.solver.model
    if not folder.exists():
        with atomic_directory(folder) as tmp:
            write_starting_solver(cfg.solver.model, tmp, cfg.seed)
    return str(folder)


def _warmup_samples(cfg: RunConfig, warmup: WarmupConfig, root: Path) -> tuple[list[Any], Path]:
    scenes_dir = _generate(
        root / "scenes", warmup.num_scenes, warmup.seed, warmup.frames, warmup.width, warmup.height
    )
    path = root / "samples.parquet"
    if not path.exists():
        from tools.sandbox import make_sandbox

        scenes = [Scene.load(folder) for folder in list_scene_dirs(scenes_dir)]
        with make_sandbox("local", workers=cfg.sandbox.workers) as sandbox:
            write_samples(build_warmup_samples(scenes, warmup, sandbox), path)
    return read_samples(path), scenes_dir


def perception_check(
    cfg: RunConfig, warmup: WarmupConfig, root: Path, models: dict[str, str]
) -> dict[str, Any]:
    """Accuracy per warm-up form on scenes the warm-up never saw, for each model, beside
    the share of the most common answer (what a solver that cannot see can reach)."""
    import json

    path = root / "accuracy.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    from agents.solver.items import SolverItem
    from agents.solver.solver import Solver

    check = replace(warmup, seed=warmup.seed + warmup.num_scenes, num_scenes=warmup.check_scenes)
    samples, scenes_dir = _warmup_samples(cfg, replace(check, check_scenes=0), root)
    dirs = {Scene.load(folder).id: folder for folder in list_scene_dirs(scenes_dir)}
    forms = sorted({s.proposal.question_type for s in samples})
    record: dict[str, Any] = {
        "questions": len(samples),
        "scene_seeds": [check.seed, check.seed + check.num_scenes - 1],
    }
    truths = {
        form: Counter(s.ground_truth for s in samples if s.proposal.question_type == form)
        for form in forms
    }
    record["majority"] = {
        form: c.most_common(1)[0][1] / sum(c.values()) for form, c in truths.items()
    }
    for label, model in models.items():
        solver = Solver(solver_settings(cfg, model))
        frames = solver.config.num_frames
        items = [
            SolverItem.from_sample(s, dirs[s.proposal.scene_id], None, frames) for s in samples
        ]
        right: dict[str, list[bool]] = {form: [] for form in forms}
        for sample, result in zip(samples, solver.answer(items), strict=True):
            right[sample.proposal.question_type].append(result.answer == sample.ground_truth)
        record[label] = {form: sum(hits) / len(hits) for form, hits in right.items()}
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return record


def build_shared(out: Path, cfg: RunConfig, warmup: WarmupConfig) -> Shared:
    """Scene pool, held-out benchmark and warmed-up starting solver (see module docstring)."""
    warmup.check()
    shared, root = out / "shared", out / "warmup"
    root.mkdir(parents=True, exist_ok=True)
    scenes = cfg.scenes
    scenes_dir = _generate(
        shared / "scenes", scenes.num, scenes.seed, scenes.frames, scenes.width, scenes.height
    )
    eval_dir = shared / "eval" / "procspatial"
    if not eval_dir.exists():
        from evaluation.procspatial_build import build_from_config

        build_from_config(eval_dir, procspatial_settings(cfg), progress=False)
    initial = _initial_model(cfg, root / "initial")
    before = _evaluate(cfg, initial, eval_dir, root / "eval_before.json")
    record: dict[str, Any] = {
        "config": {k: v for k, v in vars(warmup).items()},
        "before": heldout_summary(before),
    }
    if warmup.steps == 0:
        record.update(samples=0, steps=0, after=record["before"])
        return Shared(scenes_dir, eval_dir, initial, root / "eval_before.json", record)
    samples, warmup_scenes = _warmup_samples(cfg, warmup, root)
    settings = training_settings(cfg, initial).replace(steps_per_iteration=warmup.steps)
    dirs = {Scene.load(folder).id: folder for folder in list_scene_dirs(warmup_scenes)}
    result = train_warmup(samples, dirs, settings, root / "training")
    model = str(result.model_dir)
    after = _evaluate(cfg, model, eval_dir, root / "eval_after.json")
    check = (
        perception_check(cfg, warmup, root / "check", {"before": initial, "after": model})
        if warmup.check_scenes
        else None
    )
    record.update(
        samples=len(samples),
        forms=dict(sorted(Counter(s.proposal.question_type for s in samples).items())),
        steps=warmup.steps,
        global_batch_size=settings.global_batch_size,
        learning_rate=settings.learning_rate,
        epochs=round(warmup.steps * settings.global_batch_size / len(samples), 2),
        first_loss=result.losses[0] if result.losses else None,
        last_loss=result.losses[-1] if result.losses else None,
        scene_seeds=[warmup.seed, warmup.seed + warmup.num_scenes - 1],
        after=heldout_summary(after),
        perception_check=check,
    )
    return Shared(scenes_dir, eval_dir, model, root / "eval_after.json", record)


def link_run(run_dir: Path, shared: Shared) -> RunStore:
    """A fresh run directory that reuses the shared scenes, benchmark and baseline result."""
    store = RunStore(run_dir)
    store.eval_dir.parent.mkdir(parents=True, exist_ok=True)
    for link, target in ((store.scenes_dir, shared.scenes_dir), (store.eval_dir, shared.eval_dir)):
        if not link.exists():
            link.symlink_to(target.resolve(), target_is_directory=True)
    if not store.initial_eval_path.exists():
        shutil.copyfile(shared.start_eval, store.initial_eval_path)
    return store
