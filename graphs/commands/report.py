"""`ouroboros report RUN_DIR`: one self-contained HTML page about a loop run.

Charts per iteration (acceptance, confidence bands per task type, training loss,
held-out score) and a filterable gallery of samples with the frames the solver saw.
Works on a finished run and on one still going (it shows the finished steps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def report(
    run_dir: Annotated[
        Path, typer.Argument(help="Run directory written by 'ouroboros run --out'.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="HTML file to write (default: RUN_DIR/report.html).")
    ] = None,
    max_samples: Annotated[
        int,
        typer.Option(help="Gallery size: samples spread over iterations, task types and verdicts."),
    ] = 200,
) -> None:
    """Write the run report: charts per iteration and a gallery of samples (one HTML file)."""
    from graphs.report import build_report

    path = build_report(run_dir, out, max_samples)
    size_kb = path.stat().st_size / 1024
    console.print(f"[green]report written[/] {path} ({size_kb:.0f} kB); open it in a browser")
