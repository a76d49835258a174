"""`ouroboros propose`: make questions about scenes, run their programs, write samples.

The round as the loop runs it, as one command: a curriculum policy splits `--num` over the
proposer's arms (task type x level), the proposer writes proposals, the sandbox runs each
program, the verifier decides every sample (accepted, or rejected with a reason; see
docs/verifier.md), and all samples, rejected ones included for audit, go to a Parquet file
that `datasets.load_dataset("parquet", ...)` reads. The verifier's per-sample details go
beside it as `<name>.verification.json`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from common.errors import UserError, field_problem

if TYPE_CHECKING:
    from agents.curriculum import Feedback
    from agents.proposers import LLMProposer, ProgrammaticConfig, ProposalBatch, Proposer
    from agents.records import Sample
    from agents.solver import SolverBackend
    from tools.sandbox import Sandbox

console = Console()


def propose(
    scenes: Annotated[Path, typer.Option(help="Folder of scene folders (or one scene folder).")],
    out: Annotated[Path, typer.Option(help="Samples file to write (*.parquet).")],
    num: Annotated[int, typer.Option(min=1, help="Proposals to make in total.")] = 100,
    proposer: Annotated[
        str, typer.Option(help="Proposer: programmatic (templates) or llm (a tool-using agent).")
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
    policy: Annotated[str, typer.Option(help="Curriculum policy: bandit | uniform.")] = "bandit",
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
    from agents.proposers import ProgrammaticConfig, plan_and_propose
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
    curriculum = make_policy(policy, seed=seed)
    last_round = _read_feedback(feedback) if feedback else None
    settings = {"workers": workers} if workers and sandbox == "local" else {}
    log = trajectories or out.with_suffix(".trajectories.jsonl")
    limits = ExecutionConfig(timeout_s=timeout_s)
    solver = _load_solver(blind_solver) if verify and blind_solver else None
    report = None
    chosen = None
    if proposer != "llm":
        chosen = _make_proposer(proposer, ProgrammaticConfig(seed=seed, tasks=task_names))

    with _progress() as progress, make_sandbox(sandbox, **settings) as runner:
        if chosen is None:
            chosen = _make_llm_proposer(
                model,
                seed,
                task_names,
                recheck,
                log,
                runner,
                {scene.id: folder for scene, folder in zip(loaded, scene_dirs, strict=True)},
            )
            chosen.set_feedback(last_round)
        step = progress.add_task("proposing", total=num)
        batch = plan_and_propose(
            chosen, loaded, num, curriculum, last_round, lambda n: progress.advance(step, n)
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


def _make_proposer(name: str, config: ProgrammaticConfig) -> Proposer:
    from agents.proposers import PROPOSERS

    if name not in PROPOSERS:
        raise UserError(f"unknown proposer {name!r}; choose one of {', '.join(sorted(PROPOSERS))}")
    return PROPOSERS[name](config)


def _make_llm_proposer(
    model: str | None,
    seed: int,
    tasks: list[str] | None,
    recheck: bool,
    log: Path,
    sandbox: Sandbox,
    scene_dirs: dict[str, Path],
) -> LLMProposer:
    """The LLM proposer on the command's sandbox, with the scene folders for frame images."""
    from agents.proposers import LLMProposer, LLMProposerConfig

    config = LLMProposerConfig(seed=seed, tasks=tasks, recheck=recheck, trajectory_path=str(log))
    if model:
        config.model = model
    return LLMProposer(config, sandbox=sandbox, scene_dirs=scene_dirs)


def _load_solver(model: str) -> SolverBackend:
    from agents.solver import SolverConfig, load_solver

    try:
        return load_solver(SolverConfig(model=model))
    except (OSError, ValueError, RuntimeError) as error:
        raise UserError(f"--blind-solver {model}: {error}") from error


def _read_feedback(path: Path) -> Feedback:
    from pydantic import ValidationError

    from agents.curriculum import Feedback

    if not path.exists():
        raise UserError(f"--feedback {path}: no such file")
    try:
        return Feedback.model_validate_json(path.read_text(encoding="utf-8"))
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
