"""Turn `RunData` into the report page: summary numbers, tables, charts and the gallery.

The page is one HTML file with its CSS, JS, charts (SVG) and frame thumbnails inline, so
it can be mailed, archived next to the run, or opened from file:// with no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agents.bands import BANDS
from graphs.report.charts import (
    Chart,
    TaskColours,
    acceptance_chart,
    band_charts,
    band_legend,
    heldout_chart,
    loss_chart,
)
from graphs.report.data import HeldOut, RunData
from graphs.report.gallery import Gallery, filter_values
from graphs.report.heldout import TaskInterval
from graphs.report.panels import (
    calibration_chart,
    confidence_histograms,
    heldout_legend,
    heldout_multiples,
    quota_legend,
    quota_multiples,
)

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Kpi:
    label: str
    value: str
    detail: str = ""


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def with_interval(point: TaskInterval | None, fallback: float | None = None) -> str:
    """'12.5% (3–47)': the score and its 95% interval in percent."""
    if point is None:
        return pct(fallback)
    return f"{pct(point.score)} ({100 * point.low:.0f}–{100 * point.high:.0f})"


def signed_points(delta: float) -> str:
    return f"{100 * delta:+.1f} pts"


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(run: RunData, gallery: Gallery) -> str:
    quota_tasks = [task for it in run.iterations for task in it.quotas]
    colours = TaskColours(run.task_types() + run.heldout_tasks() + quota_tasks)
    charts: list[Chart] = [
        c for c in (heldout_chart(run, colours), acceptance_chart(run), loss_chart(run)) if c
    ]
    headers, rows = iteration_rows(run)
    heldout_headers, heldout_rows = heldout_table(run)
    template = environment().get_template("report.html")
    return template.render(
        run=run,
        status=status_line(run),
        generated_at=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        config_summary=config_summary(run.config),
        kpis=kpis(run),
        notes=notes(run, gallery),
        charts=charts,
        band_charts=band_charts(run),
        band_legend=band_legend(run),
        heldout_multiples=heldout_multiples(run, colours),
        heldout_legend=heldout_legend(),
        histograms=confidence_histograms(run),
        calibration=calibration_chart(run),
        quota_multiples=quota_multiples(run, colours),
        quota_legend=quota_legend(),
        row_headers=headers,
        rows=rows,
        heldout_headers=heldout_headers,
        heldout_rows=heldout_rows,
        gallery=gallery,
        filters=filter_values(gallery.cards),
        verdict_counts={
            v: sum(1 for c in gallery.cards if c.sample.verdict == v)
            for v in ("accepted", "rejected")
        },
        task_colour=colours,
        transcripts_html=latest_transcripts(run),
    )


def latest_transcripts(run: RunData) -> str:
    """The drawing solver's gallery for the newest held-out evaluation that saved transcripts
    (runs with `solver.settings.backend=vilasr`); empty for every other solver."""
    from graphs.report.transcripts import render_transcripts, transcript_folders
    from graphs.store import RunStore

    store = RunStore(run.root)
    newest_first = [store.eval_result_path(it.iteration) for it in reversed(run.iterations)]
    for eval_path in [*newest_first, store.initial_eval_path]:
        found = transcript_folders(store.transcripts_dir(eval_path))
        if found:
            return render_transcripts(found)
    return ""


def status_line(run: RunData) -> str:
    done = len(run.finished)
    budget = f" of {run.iteration_budget}" if run.iteration_budget else ""
    plural = "iteration" if (run.iteration_budget or done) == 1 else "iterations"
    line = f"{done}{budget} {plural} finished"
    if run.in_progress:
        line += f"; iteration {', '.join(map(str, run.in_progress))} in progress"
    return line


def iterations_detail(run: RunData) -> str:
    parts = [f"budget {run.iteration_budget}"] if run.iteration_budget else []
    parts += [f"iteration {i} in progress" for i in run.in_progress]
    return "; ".join(parts)


def config_summary(config: dict[str, Any]) -> list[tuple[str, str]]:
    """The few settings that tell runs apart, as (label, value) chips."""

    def get(section: str, key: str) -> Any:
        return (config.get(section) or {}).get(key)

    pairs = [
        ("preset", config.get("preset")),
        ("selection", get("loop", "selection")),
        ("proposer", get("proposer", "kind")),
        ("proposals/iteration", get("proposer", "per_iteration")),
        ("solver", get("solver", "model")),
        ("training", get("training", "method")),
        (
            "scenes",
            get("scenes", "num")
            if get("scenes", "source") == "procedural"
            else get("scenes", "source"),
        ),
        ("seed", config.get("seed")),
    ]
    return [(label, str(value)) for label, value in pairs if value is not None]


def kpis(run: RunData) -> list[Kpi]:
    proposed = sum(it.proposed for it in run.iterations)
    accepted = sum(it.accepted for it in run.iterations)
    trained = sum(it.training.num_samples for it in run.iterations if it.training)
    cards = [
        Kpi("iterations finished", str(len(run.finished)), iterations_detail(run)),
        Kpi("candidates", str(proposed), "proposed and executed"),
        Kpi(
            "accepted",
            str(accepted),
            f"{pct(accepted / proposed if proposed else None)} of candidates",
        ),
        Kpi("trained on", str(trained), "samples over all iterations"),
    ]
    last = next((it.heldout for it in reversed(run.iterations) if it.heldout), None)
    if last is not None:
        detail = last.overall_label
        if (
            run.baseline is not None
            and run.baseline.overall is not None
            and last.overall is not None
        ):
            detail = f"start {pct(run.baseline.overall)} → {signed_points(last.overall - run.baseline.overall)}"
        interval = last.overall_interval
        if interval is not None:
            chance = "" if interval.chance is None else f", chance {pct(interval.chance, 0)}"
            detail += (
                f"; 95% interval {100 * interval.low:.0f}–{100 * interval.high:.0f}%, "
                f"n={interval.n}{chance}"
            )
        cards.append(Kpi("held-out score", pct(last.overall), detail))
    elif run.baseline is not None:
        cards.append(Kpi("held-out score", pct(run.baseline.overall), "starting solver"))
    return cards


def notes(run: RunData, gallery: Gallery) -> list[str]:
    found = []
    if not run.iterations:
        found.append(
            "No iteration has written its samples yet; run 'ouroboros report' again later."
        )
    if gallery.missing_frames:
        found.append(
            f"{gallery.missing_frames} sample(s) show no frames: their scene or frame files are "
            "missing from the run's scenes/ folder."
        )
    return found


def iteration_rows(run: RunData) -> tuple[list[str], list[list[str]]]:
    headers = ["iteration", "candidates", "accepted", "acceptance", "trained on", "mean confidence",
               *BANDS, "final loss", "held-out (95% interval)", "vs start"]  # fmt: skip
    rows = []
    for it in run.iterations:
        bands = it.band_totals()
        scored = sum(bands.values())
        training = it.training
        loss = f"{training.losses[-1]:.4f}" if training and training.losses else "–"
        trained = "–" if training is None else training.skipped or str(training.num_samples)
        rows.append([
            str(it.iteration), str(it.proposed), str(it.accepted), pct(it.acceptance), trained,
            "–" if it.mean_confidence() is None else f"{it.mean_confidence():.3g}",
            *(pct(bands[b] / scored, 0) if scored else "–" for b in BANDS),
            loss, with_interval(it.heldout.overall_interval, it.heldout.overall) if it.heldout else "–",
            _delta(run.baseline, it.heldout),
        ])  # fmt: skip
    return headers, rows


def _delta(start: HeldOut | None, now: HeldOut | None) -> str:
    if start is None or now is None or start.overall is None or now.overall is None:
        return "–"
    return signed_points(now.overall - start.overall)


def heldout_table(run: RunData) -> tuple[list[str], list[list[str]]]:
    """Task rows, one column per evaluation (starting solver first), the overall last."""
    columns = [("start", run.baseline)] if run.baseline else []
    columns += [(f"it {it.iteration}", it.heldout) for it in run.iterations if it.heldout]
    if not columns:
        return [], []
    last = columns[-1][1]
    headers = ["task", "n", "chance", *(f"{label} (95% interval)" for label, _ in columns)]
    rows = []
    for task in run.heldout_tasks():
        known = last.intervals.get(task)
        rows.append([
            task,
            str(known.n) if known else "–",
            pct(known.chance, 0) if known and known.chance is not None else "–",
            *(with_interval(ev.intervals.get(task), ev.tasks.get(task)) for _, ev in columns),
        ])  # fmt: skip
    total = last.overall_interval
    rows.append([
        last.overall_label,
        str(total.n) if total else "–",
        pct(total.chance, 0) if total and total.chance is not None else "–",
        *(with_interval(ev.overall_interval, ev.overall) for _, ev in columns),
    ])  # fmt: skip
    return headers, rows
