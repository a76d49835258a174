"""What a person watching `ouroboros run` sees: a spinner per stage, then one table per iteration.

Everything goes through rich's global console, the one the components' own progress bars
(scene rendering, the held-out set's build) use, so nested bars render inside the stage
spinner instead of fighting it. Output to a file or pipe gets a wide console: tables keep
task names whole in logs.
"""

from __future__ import annotations

import os
import time
from typing import Any

import rich
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from agents.bands import BANDS, BandThresholds
from graphs.summary import IterationSummary

#: Console width when output is not a terminal (a log file): wide enough for every task name.
LOG_WIDTH = 160
#: Stages shorter than this print no line when they finish (they would only add noise);
#: "prepare" always prints one. OUROBOROS_STAGE_LINES_AFTER_S changes it (0: every stage).
REPORT_AFTER_S = 2.0


def report_after_s() -> float:
    """Seconds after which a finished stage prints its line (the environment may say)."""
    try:
        return float(os.environ.get("OUROBOROS_STAGE_LINES_AFTER_S", REPORT_AFTER_S))
    except ValueError:
        return REPORT_AFTER_S


STAGE_LABELS: dict[str, str] = {
    "prepare": "preparing: scenes, starting solver, held-out set, baseline evaluation",
    "plan": "planning quotas",
    "propose": "proposing questions",
    "execute_verify": "running programs and verifying",
    "score": "scoring the solver's confidence",
    "select": "selecting the training set",
    "train": "training",
    "evaluate": "evaluating on the held-out set",
    "feedback": "feeding back",
}


def console() -> Console:
    return rich.get_console()


def configure_output() -> Console:
    """Widen rich's console when stdout is not a terminal, so logs are not cut at 80 columns."""
    current = rich.get_console()
    if not current.is_terminal and current.width < LOG_WIDTH:
        rich.reconfigure(width=LOG_WIDTH)
    return rich.get_console()


class StageDisplay:
    """Follows LangGraph's `tasks` stream: a spinner with elapsed time while a node runs."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.iteration: int | None = None
        self.current: str | None = None  # the stage running now (for the interrupt message)
        self.last: str | None = None  # the stage that finished last
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console(),
            transient=True,
            disable=quiet,
        )
        self._running: dict[str, tuple[TaskID, str, float]] = {}

    def __enter__(self) -> StageDisplay:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def where(self) -> str:
        """'iteration 2, training' or 'preparing': where the run was when it stopped."""
        name = self.current or self.last
        if name is None:
            return "start-up"
        stage = STAGE_LABELS.get(name, name).split(":")[0]
        if self.current is None:
            stage = f"the step after {stage}"
        if self.iteration is None or name == "prepare":
            return stage
        return f"iteration {self.iteration}, {stage}"

    def on_values(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("iteration"), int):
            self.iteration = state["iteration"]

    def on_task(self, event: dict[str, Any]) -> None:
        name, task_id = event.get("name", ""), event.get("id", "")
        if "result" not in event and "error" not in event:  # a task starts
            self.current = name
            label = self._label(name)
            self._running[task_id] = (
                self._progress.add_task(label, total=None),
                label,
                time.perf_counter(),
            )
            return
        started = self._running.pop(task_id, None)
        if started is None:
            return
        bar, label, began = started
        self._progress.remove_task(bar)
        if not self._running:
            self.current, self.last = None, name
        seconds = time.perf_counter() - began
        # the first stage always reports, so a log shows the run got going
        long_enough = seconds >= report_after_s() or name == "prepare"
        if not self.quiet and long_enough and name != "propose":
            console().print(f"[dim]  {label}: {seconds:.1f} s[/]")

    def _label(self, name: str) -> str:
        label = STAGE_LABELS.get(name, name)
        if self.iteration is None or name == "prepare":
            return label
        return f"iteration {self.iteration} · {label}"


def warn(message: str) -> None:
    """A warning the person running the loop must see (not a library warning)."""
    console().print(f"[bold yellow]warning:[/] {message}", soft_wrap=True)


def warn_empty_band(
    iteration: int, confidences: list[float | None], thresholds: BandThresholds
) -> None:
    """`loop.selection=band` kept nothing: say why (where the confidences are) and what to change."""
    known = sorted(p for p in confidences if p is not None)
    counts = thresholds.counts(known)
    hard, easy = thresholds.hard, thresholds.easy
    spread = f"{known[0]:.3g} to {known[-1]:.3g}" if known else "none scored"
    warn(
        f"iteration {iteration}: loop.selection=band kept 0 of {len(confidences)} scored samples "
        f"({counts['hard']} below loop.hard={hard:g}, {counts['easy']} above loop.easy={easy:g}; "
        f"confidences {spread}), so nothing is trained this iteration. Use loop.selection=all "
        "to train on every accepted sample, or move the band to where the confidences are "
        f"(e.g. loop.hard={known[0] if known else hard:.1g})."
    )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def print_iteration(entry: IterationSummary) -> None:
    """Per task: proposals, acceptance, confidence bands; then loss and held-out score."""
    table = Table(title=f"iteration {entry.iteration}", title_justify="left")
    names = sorted(entry.tasks)
    widest = max((len(name) for name in names), default=4)
    for column in ("task", "proposed", "accepted", *BANDS, "mean p"):
        if column == "task":
            table.add_column(column, justify="left", no_wrap=True, min_width=widest)
        else:
            table.add_column(column, justify="right")
    for task in names:
        row = entry.tasks[task]
        mean = row.mean_confidence
        table.add_row(
            task,
            str(row.proposed),
            f"{row.accepted} ({_pct(row.accepted, row.proposed)})",
            *(_pct(n, row.scored) for n in row.bands.values()),
            "-" if mean is None else f"{mean:.3g}",
        )
    out = console()
    out.print(table)
    losses = entry.train_loss
    loss = f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "not trained"
    score = entry.heldout.overall if entry.heldout else None
    reasons = ", ".join(f"{k} {v}" for k, v in entry.reasons.items()) or "none"
    out.print(
        f"accepted {entry.accepted}/{entry.proposed} (rejected: {reasons}); "
        f"trained on {entry.trained_on}; loss {loss}; "
        f"held-out {'-' if score is None else f'{100 * score:.1f}'}",
        soft_wrap=True,
    )
