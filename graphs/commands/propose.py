"""`ouroboros propose`: make questions about scenes, run their programs, write samples.

The round as the loop runs it, as one command: a curriculum policy splits `--num` over the
proposer's arms (task type x level), the proposer writes proposals, the sandbox runs each
program, the verifier decides every sample (accepted, or rejected with a reason; see
docs/verifier.md), and all samples, rejected ones included for audit, go to a Parquet file
that `datasets.load_dataset("parquet", ...)` reads. The verifier's per-sample details go
beside it as `<name>.verification.json`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from common.errors import UserError, field_problem

if TYPE_CHECKING:
    from agents.curriculum import Arm, DifficultyFeedback
    from agents.proposers import ProposalBatch, Proposer, ProposerCommon, ProposerResources
    from agents.records import Sample
    from agents.solver import SolverBackend
    from scenes.schema import Scene

console = Console()


def propose(
    scenes: Annotated[Path, typer.Option(help="Folder of scene folders (or one scene folder).")],
    out: Annotated[Path, typer.Option(help="Samples file to write (*.parquet).")],
    num: Annotated[int, typer.Option(min=1, help="Proposals to make in total.")] = 100,
    proposer: Annotated[
        str,
        typer.Option(
            help="Proposer (agents.proposers.PROPOSERS): programmatic (templates) or llm "
            "(a tool-using agent)."
        ),
    ] = "programmatic",
    model: Annotated[
        str | None,
        typer.Option(
            help="The llm proposer's model: vllm:MODEL@http://host:port/v1, openai:MODEL, "
            "anthropic:MODEL or any init_chat_model provider:MODEL "
            "(default: vllm:Qwen/Qwen3-VL-8B-Instruct@http://localhost:8000/v1)."
        ),
    ] = None,
    recheck: Annotated[
        bool, typer.Option(help="llm: let the model review each question and withdraw it.")
    ] = False,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            help="A field of the proposer's config as key=value, repeatable (the loop's "
            "proposer.settings), e.g. scene_attempts=3 or limits.max_tool_calls=12."
        ),
    ] = None,
    trajectories: Annotated[
        Path | None,
        typer.Option(
            help="llm: audit log of every attempt (default: OUT with .trajectories.jsonl)."
        ),
    ] = None,
    tasks: Annotated[
        list[str] | None,
        typer.Option(help="Task types to propose, repeatable or comma-separated (default: all)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for allocation and proposals.")] = 0,
    frames: Annotated[
        int,
        typer.Option(
            min=1,
            help="Frames the solver sees per question (the loop: solver.settings.num_frames).",
        ),
    ] = 16,
    jobs: Annotated[
        int,
        typer.Option(
            min=1,
            help="Propose jobs the arms are dealt over, each on every scene (the loop: "
            "proposer.max_concurrency).",
        ),
    ] = 1,
    policy: Annotated[
        str, typer.Option(help="Curriculum policy: bandit | yield_bandit | uniform.")
    ] = "bandit",
    feedback: Annotated[
        Path | None, typer.Option(help="Difficulty feedback JSON from the last round.")
    ] = None,
    sandbox: Annotated[str, typer.Option(help="Sandbox for the programs: local | e2b.")] = "local",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local sandbox workers (default: CPUs, max 4).")
    ] = None,
    timeout_s: Annotated[float, typer.Option(help="Time limit per program (s).")] = 10.0,
    verify: Annotated[
        bool, typer.Option(help="Verify the samples (off: they stay 'pending').")
    ] = True,
    blind_solver: Annotated[
        str | None,
        typer.Option(
            help="Solver model (folder or hub id) for the verifier's blind check; "
            "without one the blind check is skipped."
        ),
    ] = None,
) -> None:
    """Propose questions with ground-truth programs, execute and verify them, write samples."""
    from agents.curriculum import make_policy
    from agents.execution import ExecutionConfig, execute
    from agents.proposers import ProposerCommon, ProposerResources, proposer_class
    from agents.sample_io import write_samples
    from agents.verifier import Verifier, VerifierConfig
    from scenes.schema import Scene, list_scene_dirs
    from tools.sandbox import make_sandbox

    if out.suffix != ".parquet":
        raise UserError(f"--out {out}: samples are written as Parquet; name the file *.parquet")
    scene_dirs = list_scene_dirs(scenes)
    if not scene_dirs:
        raise UserError(
            f"--scenes {scenes}: no scene folders (scene.json) found; make some with "
            "'ouroboros scenes generate --out DIR' or 'ouroboros scenes import'"
        )
    loaded = [Scene.load(d) for d in scene_dirs]
    task_names = [t.strip() for item in tasks or [] for t in item.split(",") if t.strip()] or None
    if proposer != "llm" and (model or recheck or trajectories):
        raise UserError("--model, --recheck and --trajectories apply to --proposer llm only")
    proposer_class(proposer, where="--proposer")
    settings = _proposer_settings(setting, {"recheck": True} if recheck else {})
    common = ProposerCommon(
        seed=seed,
        tasks=task_names,
        model=model,
        num_solver_frames=frames,
        program_timeout_s=timeout_s,
    )
    config = _proposer_config(proposer, common, settings)
    curriculum = make_policy(policy, seed=seed)
    last_round = _read_feedback(feedback) if feedback else None
    sandbox_settings = {"workers": workers} if workers and sandbox == "local" else {}
    log = trajectories or out.with_suffix(".trajectories.jsonl")
    limits = ExecutionConfig(timeout_s=timeout_s)
    solver = _load_solver(blind_solver) if verify and blind_solver else None
    report = None

    with _progress() as progress, make_sandbox(sandbox, **sandbox_settings) as runner:
        resources = ProposerResources(
            sandbox=runner,
            scene_dirs={scene.id: folder for scene, folder in zip(loaded, scene_dirs, strict=True)},
            trajectories=log if proposer == "llm" else None,
            feedback=last_round,
        )
        step = progress.add_task("proposing", total=num)
        batch = propose_round(
            proposer,
            config,
            resources,
            {scene.id: scene for scene in loaded},
            curriculum.allocate(proposer_class(proposer).arms_for(config), num, last_round),
            seed=seed,
            jobs=jobs,
            on_progress=lambda n: progress.advance(step, n),
        )
        run = progress.add_task("executing", total=len(batch.proposals))
        samples = execute(
            batch.proposals,
            {s.id: s for s in loaded},
            runner,
            config=limits,
            on_progress=lambda n: progress.advance(run, n),
        )
        if verify:
            verifier = Verifier(VerifierConfig(limits=limits), runner, solver)
            names = [check.name for check in verifier.checks]
            checking = progress.add_task("verifying", total=len(names))
            report = verifier.verify(
                samples,
                {s.id: s for s in loaded},
                on_progress=lambda name: progress.update(
                    checking, description=name, completed=names.index(name) if name in names else 0
                ),
            )
            samples = report.samples
    write_samples(samples, out)
    console.print(_report(batch, samples))
    if report is not None:
        audit = out.with_suffix(".verification.json")
        audit.write_text(report.model_dump_json(exclude={"samples"}, indent=1), encoding="utf-8")
        console.print(report.check_table())
        console.print(report.reason_table("proposer_id"))
        for note in report.notes:
            console.print(f"note: {note}")
        accepted = len(report.accepted)
        outcome = f"{accepted} accepted, {len(samples) - accepted} rejected; details in {audit}"
    else:
        outcome = f"{sum(s.verdict == 'pending' for s in samples)} passed execution, not verified"
    console.print(f"wrote {len(samples)} samples ({outcome}) over {len(loaded)} scene(s) to {out}")
    if proposer == "llm":
        console.print(f"attempt trajectories appended to {log}")


def propose_round(
    kind: str,
    config: Any,
    resources: ProposerResources,
    scenes: Mapping[str, Scene],
    quotas: Mapping[Arm, int],
    *,
    seed: int,
    jobs: int = 1,
    iteration: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> ProposalBatch:
    """A round as the loop proposes it: the quotas dealt into propose jobs, each job run by
    a proposer of `kind` built through the registry with the job's seed (graphs/planning.py)."""
    from agents.proposers import make_proposer
    from graphs.planning import merge_batches, plan_propose_jobs, run_propose_job

    def build(job_seed: int) -> Proposer:
        return make_proposer(kind, dataclasses.replace(config, seed=job_seed), resources)

    batches = [
        run_propose_job(job, scenes, build, seed, on_progress)
        for job in plan_propose_jobs(quotas, iteration, jobs)
    ]
    return merge_batches(batches)


def _proposer_settings(pairs: list[str] | None, base: dict[str, Any]) -> dict[str, Any]:
    """`--setting key=value` pairs as the nested mapping `proposer.settings` would hold."""
    from graphs.config import deep_merge, parse_override

    settings = dict(base)
    for pair in pairs or []:
        settings = deep_merge(settings, parse_override(pair))  # as config overrides merge
    return settings


def _proposer_config(kind: str, common: ProposerCommon, settings: dict[str, Any]) -> Any:
    """The proposer's config; errors name the CLI option instead of the config key."""
    from agents.proposers import proposer_config

    try:
        return proposer_config(kind, common, settings)
    except UserError as error:
        raise UserError(str(error).replace("proposer.settings", "--setting")) from None


def _load_solver(model: str) -> SolverBackend:
    from agents.solver import SolverConfig, load_solver

    try:
        return load_solver(SolverConfig(model=model))
    except (OSError, ValueError, RuntimeError) as error:
        raise UserError(f"--blind-solver {model}: {error}") from error


def _read_feedback(path: Path) -> DifficultyFeedback:
    from pydantic import ValidationError

    from agents.curriculum import DifficultyFeedback

    if not path.exists():
        raise UserError(f"--feedback {path}: no such file")
    try:
        return DifficultyFeedback.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        raise UserError(
            f"--feedback {path}: not difficulty feedback JSON "
            f"({field_problem(error.errors()[0])}); pass the feedback file a previous round wrote"
        ) from error


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _report(batch: ProposalBatch, samples: list[Sample]) -> Table:
    """Per task: quota, proposals made, accepted and rejected samples, and every reason."""
    requested: Counter[str] = Counter()
    for arm in batch.arms:
        requested[arm.question_type] += arm.requested
    skipped = batch.skipped_by_task()
    accepted: Counter[str] = Counter()
    rejected: dict[str, Counter[str]] = {}
    for sample in samples:
        task = sample.proposal.question_type
        if sample.verdict == "rejected":
            rejected.setdefault(task, Counter())[sample.reason or "unknown"] += 1
        else:  # accepted, or pending when not verified
            accepted[task] += 1
    table = Table(title="proposals per task")
    table.add_column("task", no_wrap=True)
    for column in ("requested", "proposed", "accepted", "rejected"):
        table.add_column(column, justify="right")
    table.add_column("why rejected")
    table.add_column("why not proposed (attempts)")
    for task in sorted(requested):
        made = sum(a.proposed for a in batch.arms if a.question_type == task)
        why = rejected.get(task, Counter())
        table.add_row(
            task,
            str(requested[task]),
            str(made),
            str(accepted[task]),
            str(sum(why.values())),
            _reasons(why),
            _reasons(Counter(skipped.get(task, {}))),
        )
    total_rejected = sum(sum(c.values()) for c in rejected.values())
    table.add_row(
        "total",
        str(sum(requested.values())),
        str(len(batch.proposals)),
        str(sum(accepted.values())),
        str(total_rejected),
        "",
        "",
        style="bold",
    )
    return table


def _reasons(counts: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.most_common())
