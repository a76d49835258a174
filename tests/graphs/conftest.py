"""A small but real run directory for the report tests, built once per session.

Everything comes from the project's own components: procedural scenes with rendered
frames, the programmatic proposer (plus two broken programs, as an LLM proposer writes
them, so the sandbox rejects something), the verifier with the local sandbox, the tiny
solver's confidences, a tiny ProcSpatial held-out set evaluated by the real evaluator.
Training is the one stand-in: instead of SFT steps (too slow here), iteration k's solver
is a tiny model built with seed k + 1, and train.json records the answer-token loss of
the solver being trained on each batch of its training set (what step one would see). Iteration 2 is left half done (plan and proposals
only), as in a run that is still going.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from agents.curriculum import UniformPolicy
from agents.proposers import ProgrammaticConfig, ProgrammaticProposer, plan_and_propose
from agents.records import Proposal, Sample
from graphs.store import RunStore
from scenes.schema import Scene

NUM_SCENES = 3
PROPOSALS_PER_ITERATION = 16
FINISHED_ITERATIONS = 2
SOLVER_SETTINGS: dict[str, Any] = {
    "device": "cpu",
    "num_frames": 4,
    "frame_size": 64,
    "max_new_tokens": 4,  # an untrained model's replies are noise; keep generation short
}


def broken_proposals(scene_id: str, iteration: int) -> list[Proposal]:
    """A program that raises and one whose answer is no option: two sandbox rejections."""
    common = {"scene_id": scene_id, "proposer_id": "fixture-broken"}
    return [
        Proposal(
            **common,
            question_type="object_counting",
            question=f"How many lamps are there in this room? (round {iteration})",
            answer_kind="numeric",
            program="def solve(scene):\n    return scene['no_such_key']\n",
        ),
        Proposal(
            **common,
            question_type="object_rel_distance",
            question=f"Which object is nearest to the door? (round {iteration})",
            options=["A. chair", "B. table"],
            answer_kind="multiple_choice",
            program="def solve(scene):\n    return 'sofa'\n",
        ),
    ]


def thresholds_for(confidences: list[float]) -> tuple[float, float]:
    """Band edges at the terciles of the observed confidences, so every band is populated.

    An untrained tiny solver is unsure of everything (p around 0.001); the loop's own
    0.1 / 0.9 would put every sample in 'hard' and leave two bands of the charts empty."""
    ordered = sorted(confidences)
    low, high = ordered[len(ordered) // 3], ordered[2 * len(ordered) // 3]
    return low, high if high > low else low * 1.5


def batch_losses(confidences: list[float], batch: int = 4) -> list[float]:
    """Mean answer-token cross-entropy per batch: -log p is the mean token NLL behind p."""
    chunks = [confidences[i : i + batch] for i in range(0, len(confidences), batch)]
    return [sum(-math.log(max(p, 1e-12)) for p in chunk) / len(chunk) for chunk in chunks]


def history_entry(iteration: int, samples: list[Sample], thresholds: tuple[float, float],
                  train: dict[str, Any], heldout: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """metrics.json's per-iteration entry in the dict format graphs.nodes wrote before the
    history was typed (band keys only where counted): the report must keep reading it."""
    hard, easy = thresholds
    tasks: dict[str, dict[str, Any]] = {}
    reasons: dict[str, int] = {}
    for sample in samples:
        row = tasks.setdefault(sample.proposal.question_type, {"proposed": 0, "accepted": 0})
        row["proposed"] += 1
        if sample.verdict != "accepted":
            reasons[sample.reason or "unknown"] = reasons.get(sample.reason or "unknown", 0) + 1
            continue
        row["accepted"] += 1
        p = sample.confidence or 0.0
        band = "easy" if p > easy else "hard" if p < hard else "frontier"
        row[band] = row.get(band, 0) + 1
        row["confidence_sum"] = row.get("confidence_sum", 0.0) + p
    return {
        "iteration": iteration,
        "proposed": len(samples),
        "accepted": sum(s.verdict == "accepted" for s in samples),
        "trained_on": train["num_samples"],
        "reasons": reasons,
        "tasks": tasks,
        "train_loss": train["losses"],
        "global_step": train["global_step"],
        "heldout": heldout,
    }


def heldout_summary(report: Any) -> dict[str, Any]:
    result = report.result
    tasks = {**result.tasks, **result.extra_tasks}
    return {
        "overall": result.overall_with_extra or result.overall,
        "vsibench_overall": result.overall,
        "tasks": {name: task.score for name, task in tasks.items()},
    }


def build_run_dir(root: Path) -> Path:
    from agents.solver.config import SolverConfig
    from agents.solver.items import SolverItem
    from agents.solver.solver import Solver
    from agents.solver.tiny import build_tiny_solver
    from agents.verifier import Verifier
    from evaluation.evaluator import evaluate
    from evaluation.procspatial import ProcSpatial
    from evaluation.procspatial_build import build_procspatial
    from evaluation.report import save_report
    from scenes.procedural import generate_scenes
    from tools.sandbox import make_sandbox

    store = RunStore(root)
    dirs = generate_scenes(num=NUM_SCENES, seed=0, out=store.scenes_dir, frames=8, width=160,
                           height=120, progress=False)  # fmt: skip
    scenes = {d.name: Scene.load(d) for d in dirs}
    build_procspatial(store.eval_dir, size=6, num_scenes=1, frames=8, width=160, height=120,
                      question_frames=4, workers=1, progress=False)  # fmt: skip
    bench = ProcSpatial.load(store.eval_dir)

    def solver(seed: int) -> Solver:
        models = root.parent / "models"  # outside the run: keeps the run directory small to copy
        folder = build_tiny_solver(models / f"seed-{seed}", seed=seed, frame_size=64)
        return Solver(SolverConfig(model=str(folder), **SOLVER_SETTINGS))

    def held_out(model: Solver, path: Path, seed: int) -> dict[str, Any]:
        report = evaluate(model, bench, batch_size=16, model=f"tiny-seed-{seed}")
        save_report(report, path)
        return heldout_summary(report)

    current = solver(0)
    history: list[dict[str, Any]] = [
        {"iteration": -1, "heldout": held_out(current, root / "eval_initial.json", 0)}
    ]
    per_iteration: list[list[Sample]] = []
    with make_sandbox("local", workers=1) as sandbox:
        for iteration in range(FINISHED_ITERATIONS + 1):
            proposer = ProgrammaticProposer(ProgrammaticConfig(seed=iteration, num_solver_frames=4))
            policy = UniformPolicy(seed=iteration)
            quotas = UniformPolicy(seed=iteration).allocate(
                proposer.arms(), PROPOSALS_PER_ITERATION, None
            )  # what plan_and_propose requests (same seed, same arms)
            batch = plan_and_propose(
                proposer, list(scenes.values()), PROPOSALS_PER_ITERATION, policy
            )
            proposals = batch.proposals + broken_proposals(sorted(scenes)[0], iteration)
            plan = {
                "total": len(proposals),
                "quotas": [[t, lvl, n] for (t, lvl), n in sorted(quotas.items())],
                "per_scene": [],
                "signal": {"name": "token_confidence"},  # a field the report does not know
            }
            store.write_json(store.iteration_dir(iteration) / "plan.json", plan)
            for scene_id in scenes:
                store.write_proposals(
                    iteration, scene_id, [p for p in proposals if p.scene_id == scene_id]
                )
            if iteration == FINISHED_ITERATIONS:
                break  # the iteration in progress: proposed, nothing verified yet
            verifier = Verifier(sandbox=sandbox)  # no blind check: it costs solver passes
            samples = verifier.verify(proposals, scenes, iteration=iteration).samples
            store.write_samples(store.samples_path(iteration), samples)
            accepted = [s for s in samples if s.verdict == "accepted"]
            items = [SolverItem.from_sample(s, store.scenes_dir / s.proposal.scene_id,
                                            scenes[s.proposal.scene_id], 4) for s in accepted]  # fmt: skip
            scored = [
                r.apply_to(s) for s, r in zip(accepted, current.confidence(items), strict=True)
            ]
            store.write_samples(store.scored_path(iteration), scored)
            store.write_samples(store.train_set_path(iteration), scored)
            losses = batch_losses([s.confidence for s in scored if s.confidence is not None])
            current = solver(iteration + 1)  # "after training"
            start = sum(len(h.get("train_loss", [])) for h in history)
            train = {"losses": losses, "start_step": start, "global_step": start + len(losses),
                     "num_samples": len(scored)}  # fmt: skip
            store.write_json(store.train_result_path(iteration), train)
            heldout = held_out(current, store.eval_result_path(iteration), iteration + 1)
            by_id = {s.sample_id: s for s in scored}
            per_iteration.append([by_id.get(s.sample_id, s) for s in samples])
            history.append(
                {"iteration": iteration, "train_loss": losses, "heldout": heldout, "train": train}
            )
    confidences = [s.confidence for it in per_iteration for s in it if s.confidence is not None]
    thresholds = thresholds_for(confidences)
    metrics = [history[0]] + [
        history_entry(it, samples, thresholds, history[it + 1]["train"], history[it + 1]["heldout"])
        for it, samples in enumerate(per_iteration)
    ]
    store.write_metrics(metrics)
    store.write_config(run_config(thresholds))
    return root


def run_config(thresholds: tuple[float, float]) -> dict[str, Any]:
    hard, easy = thresholds
    return {
        "preset": "cpu-tiny",
        "seed": 0,
        "scenes": {"source": "procedural", "num": NUM_SCENES, "seed": 0, "frames": 8},
        "proposer": {
            "kind": "programmatic",
            "per_iteration": PROPOSALS_PER_ITERATION,
            "question_frames": 4,
        },
        "solver": {"model": "tiny", "settings": SOLVER_SETTINGS},
        "training": {"method": "sft", "tiny": True},
        "loop": {
            "iterations": FINISHED_ITERATIONS + 1,
            "selection": "feedback",
            "easy": easy,
            "hard": hard,
        },
    }


@pytest.fixture(scope="session")
def report_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two finished iterations and one in progress; treat as read-only (copy to modify).

    Torch runs single-threaded meanwhile: on a shared 2-core machine its thread pool
    spin-waits against other processes and makes the tiny solver 10-20x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return build_run_dir(tmp_path_factory.mktemp("report-run") / "run")
    finally:
        torch.set_num_threads(threads)
