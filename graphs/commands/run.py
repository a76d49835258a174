"""`ouroboros run`: the self-evolving loop on a preset, resumable from its run directory."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from common.errors import UserError
from graphs.config import RunConfig, load_config
from graphs.interrupts import Interrupted

#: RUN_DIR/solver/latest: a link to the newest trained checkpoint, so commands can name it.
LATEST_SOLVER = "latest"


def run(
    overrides: Annotated[
        list[str] | None, typer.Argument(help="key=value overrides, e.g. loop.iterations=2")
    ] = None,
    preset: Annotated[str, typer.Option(help="Preset name (graphs/presets/*.yaml).")] = "cpu-tiny",
    config: Annotated[Path | None, typer.Option(help="YAML file merged over the preset.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/PRESET).")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the run in this directory from its last step.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars or tables.")] = False,
) -> None:
    """Run the loop: propose, execute, verify, score, train, evaluate, feed back."""
    from graphs.build import build_graph, open_checkpointer, run_config
    from graphs.progress import StageDisplay, configure_output
    from graphs.runtime import LoopRuntime, check_settings
    from graphs.store import RunStore

    console = configure_output()
    if resume is not None:
        if overrides or config is not None or out is not None:
            raise UserError(
                "--resume continues a run as configured; drop overrides, --config and --out"
            )
        store = RunStore(resume)
        if not store.config_path.exists():
            raise UserError(
                f"{resume} is not a run directory (no config.yaml); "
                "pass the folder given to 'ouroboros run --out'"
            )
        if store.checkpoint_db.exists():
            check_checkpoint_db(store.checkpoint_db, store.root)
        cfg = RunConfig.model_validate(store.read_config())
    else:
        cfg = load_config(preset, config, overrides)
        store = RunStore(out or Path("runs") / cfg.preset)
        if store.checkpoint_db.exists():
            raise UserError(
                f"{store.root} already holds a run; continue it with "
                f"'ouroboros run --resume {store.root}' or choose another --out"
            )
        if store.config_path.exists() and _stored_config(store) != cfg:
            raise UserError(
                f"{store.root} holds an unfinished run with other settings (its config.yaml "
                f"differs); continue it with 'ouroboros run --resume {store.root}' or choose "
                "another --out"
            )
    check_settings(cfg)
    _quiet_libraries()
    runtime = LoopRuntime(config=cfg, store=store, quiet=quiet)
    started = time.perf_counter()
    had_checkpoints = store.checkpoint_db.exists()
    stages = StageDisplay(quiet=quiet)
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            invoke_config = run_config(cfg)
            if had_checkpoints and not graph.get_state(invoke_config).next:
                console.print(f"{store.root}: the run has already finished")
                _print_next_steps(store.root, quiet)
                return
            first_input = None if had_checkpoints else {}
            with stages:
                for mode, event in graph.stream(
                    first_input, invoke_config, stream_mode=["tasks", "values"]
                ):
                    if mode == "tasks":
                        stages.on_task(event)
                    else:
                        stages.on_values(event)
            state: dict[str, Any] = graph.get_state(invoke_config).values
    except KeyboardInterrupt:
        runtime.close()
        if not had_checkpoints:
            _drop_if_empty(store.checkpoint_db)
        raise Interrupted(
            f"stopped during {stages.where()}; finished steps are saved. "
            f"Continue with: ouroboros run --resume {store.root}"
        ) from None
    finally:
        runtime.close()
    _link_latest_solver(store.root, state.get("solver_checkpoint"))
    minutes = (time.perf_counter() - started) / 60
    if not quiet:
        console.print(
            f"[bold]done[/] after {len(state.get('history', [])) - 1} iteration(s) in "
            f"{minutes:.1f} min: {state.get('stop_reason')}.",
            soft_wrap=True,
        )
        _print_next_steps(store.root, quiet)


def _stored_config(store: Any) -> RunConfig | None:
    try:
        return RunConfig.model_validate(store.read_config())
    except Exception:  # an unreadable config is "different": the user must choose
        return None


def check_checkpoint_db(path: Path, run_dir: Path) -> None:
    """A resumable checkpoint database, or a one-line UserError; the file is never changed."""
    fix = (
        f"nothing was changed. Keep the folder for its files and start a new run with "
        f"'ouroboros run --config {run_dir / 'config.yaml'} --out NEW_DIR'"
    )
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty (no step of the run was saved); {fix}")
    sidecars = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    absent = [p for p in sidecars if not p.exists()]
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            checked = conn.execute("PRAGMA quick_check").fetchone()
            if not checked or checked[0] != "ok":
                raise sqlite3.DatabaseError(checked[0] if checked else "no answer")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            saved = (
                conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]
                if "checkpoints" in tables
                else 0
            )
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} is damaged ({error}); {fix}") from None
    finally:
        for created in absent:  # SQLite adds these even read-only; leave the folder as found
            created.unlink(missing_ok=True)
    if not saved:
        raise UserError(f"{path} holds no checkpoint (no step of the run was saved); {fix}")


def _drop_if_empty(path: Path) -> None:
    """This process created the database and was stopped before its first checkpoint: remove
    it, so '--resume' starts from the first step instead of refusing an empty database."""
    try:
        check_checkpoint_db(path, path.parent)
    except UserError:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _link_latest_solver(run_dir: Path, checkpoint: str | None) -> None:
    """RUN_DIR/solver/latest -> the checkpoint the run ended with (relative, swapped atomically)."""
    if not checkpoint or not Path(checkpoint).is_dir():
        return
    link = run_dir / "solver" / LATEST_SOLVER
    link.parent.mkdir(parents=True, exist_ok=True)
    target = os.path.relpath(Path(checkpoint).resolve(), link.parent.resolve())
    temporary = link.with_name(f".{LATEST_SOLVER}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)


def _print_next_steps(run_dir: Path, quiet: bool) -> None:
    from graphs.progress import console

    if quiet:
        return
    latest = run_dir / "solver" / LATEST_SOLVER
    command = _invocation()
    out = console()
    out.print(f"Run directory: {run_dir}", soft_wrap=True)
    out.print(f"  report:   {command} report {run_dir}", soft_wrap=True)
    if latest.exists():
        out.print(
            f"  evaluate: {command} eval --model {latest} --bench procspatial "
            f"--data {run_dir / 'eval' / 'procspatial'} --out {run_dir / 'eval' / 'latest'}",
            soft_wrap=True,
        )


def _invocation() -> str:
    """'ouroboros' when that name finds this script on PATH, else the path it was called by
    (after `make run`: .venv/bin/ouroboros, since the virtualenv is not activated)."""
    called = Path(sys.argv[0])
    found = shutil.which("ouroboros")
    if found and called.exists() and Path(found).resolve() == called.resolve():
        return "ouroboros"
    if called.name != "ouroboros" or not called.exists():
        return "ouroboros"
    try:
        return os.path.relpath(called) if not called.is_absolute() else str(called)
    except ValueError:
        return str(called)


def _quiet_libraries() -> None:
    """The loop prints its own stages and tables; the libraries' bars and repeated warnings
    would bury them. Trainer logs go to each iteration's train.log in the run directory."""
    import warnings

    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    warnings.filterwarnings("ignore", message=".*pin_memory.*")
    for library in ("transformers", "trl", "torch", "accelerate", "datasets", "peft"):
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=rf"{library}(\.|$)")
