"""`ouroboros run`: the self-evolving loop on a preset, resumable from its run directory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from graphs.config import RunConfig, load_config
from scenes.errors import UserError

console = Console()


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
    from graphs.runtime import LoopRuntime, check_settings
    from graphs.store import RunStore

    if resume is not None:
        if overrides or config is not None or out is not None:
            raise UserError(
                "--resume continues a run as configured; drop overrides, --config and --out"
            )
        store = RunStore(resume)
        if not store.config_path.exists() or not store.checkpoint_db.exists():
            raise UserError(
                f"{resume} is not a run directory (no config.yaml / checkpoints.sqlite)"
            )
        cfg = RunConfig.model_validate(store.read_config())
    else:
        cfg = load_config(preset, config, overrides)
        store = RunStore(out or Path("runs") / cfg.preset)
        if store.checkpoint_db.exists():
            raise UserError(
                f"{store.root} already holds a run; continue it with 'ouroboros run --resume {store.root}' "
                "or choose another --out"
            )
    check_settings(cfg)
    _quiet_libraries()
    runtime = LoopRuntime(config=cfg, store=store, quiet=quiet)
    started = time.perf_counter()
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            invoke_config = run_config(cfg)
            if resume is not None and not graph.get_state(invoke_config).next:
                console.print(f"{store.root}: the run has already finished")
                return
            state = graph.invoke(None if resume is not None else {}, invoke_config)
    finally:
        runtime.close()
    minutes = (time.perf_counter() - started) / 60
    if not quiet:
        console.print(
            f"[bold]done[/] after {len(state.get('history', [])) - 1} iteration(s) in {minutes:.1f} min: "
            f"{state.get('stop_reason')}. Run directory: {store.root}"
        )


def _quiet_libraries() -> None:
    """The loop prints its own per-iteration tables; the libraries' bars would bury them.

    Trainer logs go to each iteration's train.log in the run directory instead."""
    import warnings

    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    warnings.filterwarnings("ignore", message=".*pin_memory.*")
