"""The loop's nodes: plain functions of (state, runtime) returning state updates.

Each node writes its output to the run store before returning, and a node that finds
its output already there reuses it, so a run killed at any point resumes from the last
checkpoint without duplicating or losing samples (LangGraph re-runs the interrupted
node; its file is either complete or absent, because files are renamed into place).
"""

from __future__ import annotations

from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from agents.bands import tally
from agents.curriculum import DifficultyFeedback, merge, summarize
from agents.proposers.base import ProposerResources
from agents.records import Sample
from agents.solver.weights import TINY_MODELS
from common.io import atomic_directory
from graphs.planning import ProposeJob, job_name, plan_propose_jobs, run_propose_job
from graphs.runtime import (
    LoopRuntime,
    procspatial_settings,
    proposer_arms,
    scene_settings,
    training_recipe,
    training_settings,
    verifier_settings,
)
from graphs.signal_step import arm_progress, quota_record, requested_slots, with_progress
from graphs.state import STEPS_PER_ITERATION, LoopState, difficulty_of, history_of
from graphs.summary import HeldOutSummary, IterationSummary, latest_heldout, write_history


# -- prepare ----------------------------------------------------------------------------
def prepare(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """Scene pool, starting solver and held-out benchmark: built once, reused on resume."""
    cfg, store = rt.config, rt.store
    if not store.config_path.exists():
        store.write_config(cfg.model_dump(mode="json"))
    if not rt.scenes():
        _prepare_scenes(rt)
        rt._scenes = None
    model = cfg.solver.model
    if model in TINY_MODELS:
        if not store.initial_solver_dir.exists():
            from agents.solver.frames import FrameSettings, save_frame_settings
            from agents.solver.weights import write_starting_solver
            from graphs.runtime import solver_settings

            with atomic_directory(store.initial_solver_dir) as tmp:
                write_starting_solver(model, tmp, cfg.seed)
                seen = solver_settings(cfg, str(tmp))  # `ouroboros eval` shows it these frames
                frames = FrameSettings(
                    num_frames=seen.num_frames, frame_size=seen.frame_size, written_by="loop"
                )
                save_frame_settings(tmp, frames)
        model = str(store.initial_solver_dir)
    if cfg.evaluation.enabled and not store.eval_dir.exists():
        from evaluation.procspatial_build import build_from_config

        build_from_config(store.eval_dir, procspatial_settings(cfg), progress=not rt.quiet)
    baseline = _evaluate(rt, model, store.initial_eval_path)
    return {
        "run_dir": str(store.root),
        "iteration": 0,
        "scene_ids": sorted(rt.scenes()),
        "solver_checkpoint": model,
        "feedback": None,
        "history": [{"iteration": -1, "heldout": baseline}],
        "stop_reason": None,
    }


def _prepare_scenes(rt: LoopRuntime) -> None:
    settings = scene_settings(rt.config)
    if rt.config.scenes.source == "procedural":
        from scenes.procedural import generate_scenes

        generate_scenes(out=rt.store.scenes_dir, progress=not rt.quiet, **settings)
    else:
        from scenes.loaders import import_scenes

        import_scenes(out=rt.store.scenes_dir, **settings)


# -- plan and propose (fan-out) -----------------------------------------------------------
def plan(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """This round's quotas per (task, level) from the policy, dealt into propose jobs."""
    iteration = state["iteration"]
    feedback = None
    if rt.config.loop.selection != "static":
        feedback = difficulty_of(state)
    arms = proposer_arms(rt.config)  # from the registry: no proposer is built to plan
    quotas = rt.policy().allocate(
        arms, rt.config.proposer.per_iteration, feedback, round_index=iteration
    )
    jobs = plan_propose_jobs(quotas, iteration, rt.config.proposer.max_concurrency)
    previous = rt.store.scored_path(iteration - 1)
    for job in jobs:
        job["feedback"] = feedback.model_dump(mode="json") if feedback else None
        job["examples"] = str(previous) if iteration > 0 and previous.exists() else None
    rt.store.write_json(
        rt.store.iteration_dir(iteration) / "plan.json",
        {"quotas": [[t, lvl, n] for (t, lvl), n in sorted(quotas.items())], "jobs": jobs},
    )
    return {"plan": jobs}


def propose(job: ProposeJob, rt: LoopRuntime) -> dict[str, Any]:
    """One fan-out branch: one propose job's proposals, written to its own file."""
    iteration, name = job["iteration"], job_name(job)
    path = rt.store.proposals_path(iteration, name)
    if path.exists():
        count = len(rt.store.read_json(path))
    else:
        resources = ProposerResources(
            sandbox=rt.sandbox(),
            scene_dirs=rt.scene_dirs(),
            trajectories=rt.store.trajectories_path(iteration),
            feedback=DifficultyFeedback.model_validate(job["feedback"])
            if job.get("feedback")
            else None,
            samples=rt.store.read_samples(Path(job["examples"])) if job.get("examples") else (),
        )
        batch = run_propose_job(
            job, rt.scenes(), lambda seed: rt.proposer(seed, resources), rt.config.seed
        )
        rt.store.write_proposals(iteration, name, batch.proposals)
        count = len(batch.proposals)
    return {"proposed": {str(iteration): {name: count}}}


# -- execute and verify, score, select ----------------------------------------------------
def execute_verify(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """Run every proposal's program and verify it; all candidates are kept with a verdict."""
    iteration = state["iteration"]
    path = rt.store.samples_path(iteration)
    if not path.exists():
        from agents.verifier import Verifier

        proposals = rt.store.read_proposals(iteration)
        solver = rt.solver(state["solver_checkpoint"]) if rt.config.verifier.blind_check else None
        verifier = Verifier(verifier_settings(rt.config), sandbox=rt.sandbox(), solver=solver)
        report = verifier.verify(proposals, rt.scenes(), iteration=iteration)
        rt.store.write_samples(path, report.samples)
    return {}


def score(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """The configured difficulty signal on every accepted sample (the feedback signal)."""
    iteration = state["iteration"]
    if not rt.store.scored_path(iteration).exists():
        from graphs.signal_step import score_iteration

        score_iteration(rt, state["solver_checkpoint"], iteration)
    return {}


def select(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """The training set: all accepted samples, or only the frontier band in `band` mode."""
    iteration = state["iteration"]
    path = rt.store.train_set_path(iteration)
    if not path.exists():
        scored = rt.store.read_samples(rt.store.scored_path(iteration))
        if rt.config.loop.selection == "band":
            t = rt.thresholds
            in_band = [s for s in scored if t.band(s.confidence) == "frontier"]
            if scored and not in_band and not rt.quiet:
                from graphs.progress import warn_empty_band

                warn_empty_band(iteration, [s.confidence for s in scored], t)
            scored = in_band
        rt.store.write_samples(path, scored)
    return {}


# -- train and evaluate ---------------------------------------------------------------------
def train(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """Fine-tune the solver on the selected samples with `training.recipe`, continuing."""
    iteration = state["iteration"]
    selected = rt.store.read_samples(rt.store.train_set_path(iteration))
    if not selected:
        rt.store.write_json(
            rt.store.train_result_path(iteration), {"skipped": "no samples selected"}
        )
        return {}
    rt.release_solver()  # free the inference copy's memory for training
    settings = training_settings(rt.config, _initial_model(rt))
    training = rt.config.training
    if training.launcher == "accelerate":
        from graphs.launch import train_with_accelerate

        result = train_with_accelerate(
            settings,
            rt.store.train_set_path(iteration),
            rt.store.scenes_dir,
            rt.store.training_dir,
            iteration,
            training.accelerate_config,
            training.num_processes,
        )
    else:
        recipe = training_recipe(rt.config, _initial_model(rt))
        log = rt.store.iteration_dir(iteration) / "train.log"
        with log.open("a", encoding="utf-8") as sink, redirect_stdout(sink), redirect_stderr(sink):
            result = recipe.train_iteration(
                selected, rt.scene_dirs(), iteration, rt.store.training_dir
            )
    rt.store.write_json(
        rt.store.train_result_path(iteration),
        {
            "global_step": result.global_step,
            "start_step": result.start_step,
            "num_samples": result.num_samples,
            "losses": result.losses,
            "model_dir": str(result.model_dir),
        },
    )
    return {"solver_checkpoint": str(result.model_dir)}


def _initial_model(rt: LoopRuntime) -> str:
    model = rt.config.solver.model
    return str(rt.store.initial_solver_dir) if model in TINY_MODELS else model


def evaluate(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """Held-out ProcSpatial score of this iteration's solver."""
    _evaluate(rt, state["solver_checkpoint"], rt.store.eval_result_path(state["iteration"]))
    return {}


def _evaluate(rt: LoopRuntime, model: str, path: Path) -> HeldOutSummary | None:
    if not rt.config.evaluation.enabled:
        return None
    if path.exists():
        return _read_heldout(path)
    from evaluation.evaluator import evaluate as run_eval
    from evaluation.procspatial import ProcSpatial

    bench = ProcSpatial.load(rt.store.eval_dir)
    solver = rt.solver(model)
    tools = getattr(solver, "tools", None)  # the ViLaSR drawing solver keeps its transcripts
    keeps_transcripts = hasattr(tools, "transcripts_dir")
    if keeps_transcripts:
        tools.transcripts_dir = str(rt.store.transcripts_dir(path))
    try:
        report = run_eval(solver, bench, batch_size=rt.config.evaluation.batch_size, model=model)
    finally:
        if keeps_transcripts:
            tools.transcripts_dir = None
    rt.store.write_json(path, report.model_dump(mode="json"))
    return HeldOutSummary.from_report(report)


def _read_heldout(path: Path) -> HeldOutSummary:
    from evaluation.report import load_report

    return HeldOutSummary.from_report(load_report(path))


# -- feedback and routing ---------------------------------------------------------------
def feedback(state: LoopState, rt: LoopRuntime) -> dict[str, Any]:
    """Difficulty feedback per (task, level) for the next round, the iteration's summary
    (written here once; progress output, report and benchmarks read it), the stop rule."""
    iteration = state["iteration"]
    store = rt.store
    scored = store.read_samples(store.scored_path(iteration))
    requested = requested_slots(rt, iteration)
    current = summarize(scored, rt.thresholds, requested)
    history = history_of(state)
    entry = _iteration_summary(rt, iteration, current, scored)
    heldout = latest_heldout([*history, entry])
    current.heldout = heldout.scored_tasks() if heldout else {}
    merged = merge(difficulty_of(state), current, rt.config.loop.feedback_decay)
    if rt.config.loop.signal == "learning_progress":
        merged = with_progress(merged, arm_progress(rt, iteration))
    entry.stop_reason = _stop_reason(rt, iteration, [*history, entry]) or _out_of_steps(state)
    write_history(store, [*history, entry])
    if not rt.quiet:
        from graphs.progress import print_iteration

        print_iteration(entry)
    return {
        "feedback": merged,
        "history": [entry],
        "iteration": iteration + 1,
        "stop_reason": entry.stop_reason,
    }


def _iteration_summary(
    rt: LoopRuntime, iteration: int, current: DifficultyFeedback, scored: list[Sample]
) -> IterationSummary:
    store = rt.store
    samples = store.read_samples(store.samples_path(iteration))
    by_id = {s.sample_id: s for s in scored}
    tasks, reasons = tally([by_id.get(s.sample_id, s) for s in samples], rt.thresholds)
    train_path = store.train_result_path(iteration)
    train_info = store.read_json(train_path) if train_path.exists() else {}
    eval_path = store.eval_result_path(iteration)
    made = {a.arm: int(a.made) for a in current.arms}
    quotas = quota_record(requested_slots(rt, iteration), made, requested_slots(rt, iteration - 1))
    return IterationSummary(
        iteration=iteration,
        proposed=len(samples),
        accepted=sum(1 for s in samples if s.verdict == "accepted"),
        trained_on=train_info.get("num_samples", 0),
        reasons=reasons,
        tasks=tasks,
        thresholds=rt.thresholds,
        arms=current.arms,
        train_loss=train_info.get("losses", []),
        global_step=train_info.get("global_step"),
        heldout=_read_heldout(eval_path) if eval_path.exists() else None,
        quotas=quotas["quotas"],
        quota_shift=quotas["quota_shift"],
        signal=rt.config.loop.signal,
    )


def _out_of_steps(state: LoopState) -> str | None:
    """Stop when the recursion limit leaves no room for another iteration (LangGraph's
    `RemainingSteps` counts this superstep too), rather than fail mid-iteration."""
    remaining = state.get("remaining_steps")
    if remaining is None or remaining > STEPS_PER_ITERATION:
        return None
    return (
        f"step bound reached ({remaining - 1} superstep(s) left, an iteration takes "
        f"{STEPS_PER_ITERATION}); raise the invocation's recursion_limit to go on"
    )


def _stop_reason(rt: LoopRuntime, iteration: int, history: list[IterationSummary]) -> str | None:
    loop = rt.config.loop
    if iteration + 1 >= loop.iterations:
        return f"iteration budget reached ({loop.iterations})"
    scores = [h.heldout.overall for h in history if h.heldout and h.heldout.overall is not None]
    if loop.patience and len(scores) > loop.patience:
        best_before = max(scores[: -loop.patience])
        if max(scores[-loop.patience :]) < best_before + loop.min_gain:
            return f"no held-out gain for {loop.patience} iteration(s)"
    return None
