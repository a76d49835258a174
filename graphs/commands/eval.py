"""`ouroboros eval`: score a solver on ProcSpatial or VSI-Bench, compare runs, build ProcSpatial.

    ouroboros eval --model PATH_OR_ID --bench procspatial|vsibench --data PATH
                   [--protocol paper|lmms-eval|project] [--frames N] [--limit K] [--out DIR]
    ouroboros eval --compare A.json B.json [--out DIR]
    ouroboros eval build-procspatial --out DIR [--size N]
    ouroboros eval build-viewpoint --out DIR [--size N]

A run prints the per-task table and writes `results.json` (scores, every prediction,
model, benchmark version, settings) and `scores.png` (one bar per task) to `--out`.
Without --protocol a loop checkpoint is evaluated with the frame settings it was trained
with (saved beside it), anything else with the paper's protocol; the run says which.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from common.errors import UserError

if TYPE_CHECKING:
    from agents.solver.solver import SolverBackend
    from evaluation.records import Benchmark

BENCHMARKS = ("procspatial", "vsibench")

console = Console()
app = typer.Typer(
    help="Evaluate a solver on held-out benchmarks (ProcSpatial, VSI-Bench) and compare runs.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option(help="Solver checkpoint: a local folder or a hub id.")
    ] = None,
    bench: Annotated[str, typer.Option(help="Benchmark: procspatial | vsibench.")] = "procspatial",
    data: Annotated[
        Path | None,
        typer.Option(
            help="ProcSpatial: the built folder. VSI-Bench: the rows file (.parquet/.jsonl/.json) "
            "or the folder holding it and the {dataset}/{scene}.mp4 videos."
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            help="paper (32 frames as a video, the published protocol) | lmms-eval (paper inputs, "
            "current lmms-eval number parse) | project (square images). Default: the "
            "checkpoint's saved frame settings (project) if it has them, else paper."
        ),
    ] = None,
    frames: Annotated[
        int | None,
        typer.Option(
            help="Frames per question (default: the protocol's, or the checkpoint's; "
            "ProcSpatial: its own count)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most K questions, round-robin over task types.")
    ] = None,
    tasks: Annotated[
        list[str] | None,
        typer.Option(help="Only these question types (repeatable or comma-separated)."),
    ] = None,
    vsibench_only: Annotated[
        bool, typer.Option(help="ProcSpatial: only VSI-Bench's question types.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for results.json and the chart (default: eval/<bench>-<model>-<time>)."
        ),
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(help="Compare two results.json files (A B) instead of evaluating."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:1 ...")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto | bfloat16 | float16 | float32.")] = "auto",
    backend: Annotated[
        str,
        typer.Option(
            help="transformers | vllm | vilasr (the multi-turn drawing solver; use with --protocol project)."
        ),
    ] = "transformers",
    frame_size: Annotated[
        int | None,
        typer.Option(
            min=16,
            help="Project protocol: frames resized to this square size (default: the "
            "checkpoint's, else 448).",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Questions per generate call.")] = 8,
    max_new_tokens: Annotated[
        int, typer.Option(min=1, help="Generation budget per answer (VSI-Bench: 16).")
    ] = 16,
) -> None:
    """Score a solver on a benchmark (or compare two saved results with --compare)."""
    if ctx.invoked_subcommand is not None:
        return
    if compare is not None:
        _compare(compare[0], compare[1], out)
        return
    if model is None or data is None:
        raise UserError(
            "ouroboros eval needs --model and --data (or --compare A.json B.json); "
            "see 'ouroboros eval --help'"
        )
    from evaluation.charts import plot_report
    from evaluation.evaluator import evaluate as run_evaluation
    from evaluation.protocols import resolve_inputs
    from evaluation.report import CHART_FILE, RESULTS_FILE, results_table, save_report

    types = [t.strip() for item in tasks or [] for t in item.split(",") if t.strip()] or None
    benchmark = _load_benchmark(bench, data, limit, types, vsibench_only)
    inputs = resolve_inputs(model, protocol, frames, frame_size)
    count = _frame_count(benchmark, inputs.frames, frames)
    if inputs.frame_input == "video" and count < 2:
        raise UserError(
            f"--protocol {inputs.protocol.name} shows frames as a video, which needs at least 2 "
            f"frames per question (got {count}); use more frames or --protocol project"
        )
    console.print(f"inputs: {inputs.describe()}")
    if count != inputs.frames:
        console.print(f"  {benchmark.name} fixes its own frames: {count} per question")
    solver = _load_solver(
        model,
        device,
        dtype,
        backend,
        inputs.frame_size,
        inputs.frame_input,
        batch_size,
        max_new_tokens,
    )
    settings = {
        "limit": limit,
        "question_types": types,
        "vsibench_only": vsibench_only,
        **inputs.settings(),
        "max_new_tokens": max_new_tokens,
        "backend": backend,
        "dtype": dtype,
        "device": device,
    }
    report = run_evaluation(
        solver,
        benchmark,
        frames=count,
        batch_size=batch_size,
        model=model,
        settings=settings,
        data=str(data),
        console=console,
        protocol=inputs.protocol,
    )
    folder = out or _default_out(bench, model)
    results = save_report(report, folder / RESULTS_FILE)
    chart = plot_report(report, folder / CHART_FILE)
    console.print(results_table(report))
    console.print(f"wrote {results} and {chart}")


@app.command("build-procspatial")
def build_procspatial_command(
    out: Annotated[Path, typer.Option(help="Folder to create (must not exist).")],
    size: Annotated[int, typer.Option(min=1, help="Questions (about; balanced).")] = 1000,
    seed_base: Annotated[
        int | None,
        typer.Option(help="Seed of the first scene (default and minimum: the reserved 1,000,000)."),
    ] = None,
    num_scenes: Annotated[
        int | None, typer.Option(min=1, help="Scenes (default: one per 10 questions, at least 4).")
    ] = None,
    frames: Annotated[int, typer.Option(min=1, help="Frames rendered per scene walkthrough.")] = 32,
    width: Annotated[int, typer.Option(min=16, help="Frame width in pixels.")] = 640,
    height: Annotated[int, typer.Option(min=16, help="Frame height in pixels.")] = 480,
    question_frames: Annotated[
        int, typer.Option(min=1, help="Frames each question shows the model.")
    ] = 16,
    vsibench_only: Annotated[bool, typer.Option(help="Only VSI-Bench's question types.")] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Sandbox workers (default: CPUs, at most 4).")
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(help="Recipe version; each asks its own pinned task list (default: newest)."),
    ] = None,
) -> None:
    """Build the held-out ProcSpatial benchmark (deterministic: same options, same rows)."""
    from evaluation.held_out import HELD_OUT_SEED_START
    from evaluation.procspatial import PROCSPATIAL_VERSION, ProcSpatial
    from evaluation.procspatial_build import build_procspatial

    folder = build_procspatial(
        out,
        size=size,
        seed_base=HELD_OUT_SEED_START if seed_base is None else seed_base,
        frames=frames,
        width=width,
        height=height,
        num_scenes=num_scenes,
        question_frames=question_frames,
        vsibench_only=vsibench_only,
        workers=workers,
        version=version or PROCSPATIAL_VERSION,
    )
    manifest = ProcSpatial.load(folder).manifest
    console.print(
        f"built ProcSpatial v{manifest.version} ({manifest.fingerprint}): {manifest.num_rows} "
        f"questions over {manifest.num_scenes} scenes, seeds {manifest.seed_base}.."
        f"{manifest.seed_base + manifest.num_scenes - 1}, in {folder}"
    )
    if manifest.shortfall:
        short = ", ".join(f"{task} {n}" for task, n in manifest.shortfall.items())
        console.print(f"[yellow]short of the balanced quota:[/] {short} (add --num-scenes)")


@app.command("build-viewpoint")
def build_viewpoint_command(
    out: Annotated[Path, typer.Option(help="Folder to create (must not exist).")],
    size: Annotated[int, typer.Option(min=1, help="Questions (about; balanced).")] = 150,
    num_scenes: Annotated[
        int | None, typer.Option(min=1, help="Scenes (default: one per 8 questions, at least 4).")
    ] = None,
    orbit_pairs: Annotated[int, typer.Option(min=1, help="Orbit view pairs per scene.")] = 4,
    width: Annotated[int, typer.Option(min=16, help="Frame width in pixels.")] = 160,
    height: Annotated[int, typer.Option(min=16, help="Frame height in pixels.")] = 120,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Sandbox workers (default: CPUs, at most 4).")
    ] = None,
) -> None:
    """Build the held-out viewpoint benchmark (Actial-style orbit pairs, reserved seeds);
    evaluate it with `--bench procspatial --data OUT`."""
    from evaluation.procspatial import ProcSpatial
    from evaluation.viewpoint_bench import ViewpointBenchConfig, build_viewpoint_bench

    config = ViewpointBenchConfig(
        size=size,
        num_scenes=num_scenes,
        orbit_pairs=orbit_pairs,
        width=width,
        height=height,
        workers=workers,
    )
    folder = build_viewpoint_bench(out, config, progress=True)
    manifest = ProcSpatial.load(folder).manifest
    console.print(
        f"built the viewpoint benchmark ({manifest.fingerprint}): {manifest.num_rows} questions "
        f"over {manifest.num_scenes} scenes, seeds {manifest.seed_base}.."
        f"{manifest.seed_base + manifest.num_scenes - 1}, in {folder}; evaluate with "
        f"'ouroboros eval --model M --bench procspatial --data {folder}'"
    )


def _load_benchmark(
    name: str, data: Path, limit: int | None, types: list[str] | None, vsibench_only: bool
) -> Benchmark:
    if name == "procspatial":
        from evaluation.procspatial import ProcSpatial

        return ProcSpatial.load(
            data, limit=limit, question_types=types, vsibench_only=vsibench_only
        )
    if name == "vsibench":
        from evaluation.vsibench import VsiBench

        if vsibench_only:
            raise UserError("--vsibench-only applies to ProcSpatial; VSI-Bench is all VSI-Bench")
        if not data.exists():
            raise UserError(f"--data {data}: no such file or folder (VSI-Bench rows + videos)")
        benchmark = VsiBench.load(data, limit=limit, question_types=types)
        benchmark.check_videos()
        return benchmark
    raise UserError(f"unknown --bench {name!r}; choose one of {', '.join(BENCHMARKS)}")


def _frame_count(benchmark: Benchmark, chosen: int, requested: int | None) -> int:
    """The user's --frames (checked against the benchmark), else the benchmark's fixed
    count (ProcSpatial), else the protocol's or checkpoint's."""
    from evaluation.evaluator import resolve_frames

    if requested is not None or getattr(benchmark, "fixed_frames", False):
        return resolve_frames(benchmark, requested)
    return chosen


def _load_solver(
    model: str,
    device: str,
    dtype: str,
    backend: str,
    frame_size: int | None,
    frame_input: str,
    batch_size: int,
    max_new_tokens: int,
) -> SolverBackend:
    from agents.solver.backends import load_solver
    from agents.solver.config import SolverConfig

    try:
        config = SolverConfig(
            model=model,
            backend=backend,  # type: ignore[arg-type]
            device=device,
            dtype=dtype,
            frame_size=frame_size or SolverConfig.frame_size,
            frame_input=frame_input,  # type: ignore[arg-type]
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
        )
        return load_solver(config)
    except (ValueError, OSError, RuntimeError) as error:
        raise UserError(f"--model {model}: {error}") from error


def _default_out(bench: str, model: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(p for p in model.split("/") if p)[-60:])
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("eval") / f"{bench}-{name}-{stamp}"


def _compare(first: Path, second: Path, out: Path | None) -> None:
    from evaluation.charts import plot_comparison
    from evaluation.report import (
        COMPARE_CHART_FILE,
        compare_table,
        comparison_warnings,
        load_report,
    )

    a, b = load_report(first), load_report(second)
    console.print(compare_table(a, b))
    for note in comparison_warnings(a, b):
        console.print(f"[yellow]note:[/] {note}")
    if out is not None:
        chart = plot_comparison(a, b, out / COMPARE_CHART_FILE)
        console.print(f"wrote {chart}")
