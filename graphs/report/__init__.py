"""The run report: one self-contained HTML page that shows what a loop run did.

    from graphs.report import build_report
    path = build_report("runs/cpu-tiny")  # -> runs/cpu-tiny/report.html

`data` reads the run directory, `charts` (with `svg`) draws the per-iteration charts,
`gallery` picks and illustrates samples, `render` fills templates/report.html.
"""

from __future__ import annotations

from pathlib import Path

from common.errors import UserError
from common.io import atomic_write_text
from graphs.report.data import load_run
from graphs.report.gallery import DEFAULT_MAX_SAMPLES, build_gallery
from graphs.report.render import render_page
from graphs.store import RunStore

REPORT_FILE = "report.html"


def build_report(
    run_dir: str | Path, out: str | Path | None = None, max_samples: int = DEFAULT_MAX_SAMPLES
) -> Path:
    """Write the report of `run_dir` to `out` (default RUN_DIR/report.html) atomically."""
    if max_samples < 0:
        raise UserError(f"--max-samples must be 0 or more, got {max_samples}")
    run = load_run(run_dir)
    gallery = build_gallery(run, RunStore(run.root).scenes_dir, max_samples)
    target = Path(out) if out is not None else run.root / REPORT_FILE
    if target.is_dir():
        raise UserError(
            f"--out {target} is a folder; name the HTML file to write, e.g. {target / REPORT_FILE}"
        )
    atomic_write_text(target, render_page(run, gallery))
    return target


__all__ = ["REPORT_FILE", "build_report"]
