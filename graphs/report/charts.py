"""The report's per-iteration charts, drawn as inline SVG from `RunData`.

Each chart function returns a `Chart`: the SVG plus a legend the template renders as HTML
(HTML legends wrap on narrow screens; long task names would not fit inside the SVG).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.bands import BANDS, TaskTally
from graphs.report.data import IterationData, RunData
from graphs.report.svg import Canvas, Series, fmt, nice_step, percent

TASK_PALETTE: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b",
    "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
)  # fmt: skip
OVERALL_COLOUR = "#1d2330"
BAND_COLOURS: dict[str, str] = {"easy": "#5aae61", "frontier": "#f0b429", "hard": "#d64545"}
ACCEPTED_COLOUR = "#3b8f6a"
REASON_PALETTE: tuple[str, ...] = (
    "#d9822b", "#c2413b", "#8e6bbf", "#7a8794", "#b39b2e", "#4f86c6", "#a0522d", "#5f9ea0",
)  # fmt: skip


@dataclass
class LegendItem:
    name: str
    colour: str
    bold: bool = False


@dataclass
class Chart:
    title: str
    svg: str
    legend: list[LegendItem] = field(default_factory=list)
    note: str = ""


@dataclass
class SmallMultiple:
    title: str
    svg: str


class TaskColours:
    """One colour per task name, the same in every chart and in the gallery."""

    def __init__(self, names: list[str]) -> None:
        ordered = sorted(set(names))
        self._colours = {n: TASK_PALETTE[i % len(TASK_PALETTE)] for i, n in enumerate(ordered)}

    def __call__(self, name: str) -> str:
        return self._colours.get(name, "#7f7f7f")

    def items(self) -> list[tuple[str, str]]:
        return list(self._colours.items())


def iteration_label(iteration: int) -> str:
    return f"it {iteration}"


def heldout_chart(run: RunData, colours: TaskColours) -> Chart | None:
    """Held-out overall score per iteration, the starting solver first (tasks: `panels`)."""
    evaluations = [("start", run.baseline)] if run.baseline is not None else []
    evaluations += [(iteration_label(it.iteration), it.heldout) for it in run.iterations]
    evaluations = [(label, ev) for label, ev in evaluations if ev is not None]
    if not evaluations:
        return None
    labels = [label for label, _ in evaluations]
    overall_name = evaluations[-1][1].overall_label
    series = [
        Series(overall_name, OVERALL_COLOUR, [ev.overall for _, ev in evaluations], width=2.8)
    ]
    canvas = Canvas(0.0, 1.0, y_label="score")
    canvas.y_axis(0.2)
    canvas.x_labels(labels)
    for line in series:
        _draw_categorical_line(canvas, line, labels)
    legend = [LegendItem(overall_name, OVERALL_COLOUR, bold=True)]
    note = "Per task, with n, 95% intervals and chance: see 'Held-out score per task'."
    if run.baseline is None:
        note += " No eval_initial.json: the starting solver is missing."
    return Chart("Held-out score", canvas.svg("Held-out score per iteration"), legend, note)


def _draw_categorical_line(canvas: Canvas, line: Series, labels: list[str]) -> None:
    points: list[tuple[float, float]] = []
    for index, value in enumerate(line.values):
        if value is None:
            canvas.polyline(points, line)
            points = []
            continue
        x, y = canvas.slot(index, len(labels)), canvas.y(value)
        points.append((x, y))
    canvas.polyline(points, line)
    for index, value in enumerate(line.values):
        if value is not None:
            x, y = canvas.slot(index, len(labels)), canvas.y(value)
            tooltip = f"{line.name}, {labels[index]}: {100 * value:.1f}%"
            canvas.marker(x, y, line.colour, tooltip, radius=3.5 if line.width > 2 else 2.5)


def acceptance_chart(run: RunData) -> Chart | None:
    """Candidates per iteration split into accepted and each rejection reason."""
    if not run.iterations:
        return None
    reasons = _reasons_by_frequency(run.iterations)
    colour = {r: REASON_PALETTE[i % len(REASON_PALETTE)] for i, r in enumerate(reasons)}
    tallest = max(it.proposed for it in run.iterations) or 1
    canvas = Canvas(0.0, tallest * 1.15, y_format=lambda v: f"{v:.0f}", y_label="candidates")
    canvas.y_axis(nice_step(tallest * 1.15, 4))
    labels = [iteration_label(it.iteration) for it in run.iterations]
    canvas.x_labels(labels)
    bar = min(56.0, canvas.slot_width(len(labels)) * 0.6)
    for index, it in enumerate(run.iterations):
        x = canvas.slot(index, len(labels)) - bar / 2
        base = 0.0
        layers = [("accepted", it.accepted, ACCEPTED_COLOUR)]
        layers += [(r, it.reasons.get(r, 0), colour[r]) for r in reasons]
        for name, count, fill in layers:
            if count:
                top = canvas.y(base + count)
                tooltip = f"{labels[index]}: {name} {count} of {it.proposed}"
                canvas.rect(x, top, bar, canvas.y(base) - top, fill, tooltip)
                base += count
        rate = it.acceptance
        if rate is not None:
            canvas.text(
                x + bar / 2, canvas.y(base) - 5, f"{percent(rate)} accepted", size=10, weight="bold"
            )
    legend = [LegendItem("accepted", ACCEPTED_COLOUR)]
    legend += [LegendItem(f"rejected: {r}", colour[r]) for r in reasons]
    return Chart("Candidates and acceptance", canvas.svg("Candidates per iteration"), legend)


def _reasons_by_frequency(iterations: list[IterationData]) -> list[str]:
    totals: dict[str, int] = {}
    for it in iterations:
        for reason, count in it.reasons.items():
            totals[reason] = totals.get(reason, 0) + count
    return sorted(totals, key=lambda r: (-totals[r], r))


def loss_chart(run: RunData) -> Chart | None:
    """Training loss against the global step, one dashed line where each iteration starts."""
    points: list[tuple[float, float, int]] = []
    starts: list[tuple[float, int]] = []
    cursor = 0.0
    for it in run.iterations:
        training = it.training
        if training is None or not training.losses:
            continue
        start = float(training.start_step) if training.global_step is not None else cursor
        end = (
            float(training.global_step)
            if training.global_step is not None
            else cursor + len(training.losses)
        )
        step = (end - start) / len(training.losses)
        starts.append((start, it.iteration))
        points += [
            (start + step * (i + 1), loss, it.iteration) for i, loss in enumerate(training.losses)
        ]
        cursor = end
    if not points:
        return None
    x_lo, x_hi = min(s for s, _ in starts), max(x for x, _, _ in points)
    y_hi = max(loss for _, loss, _ in points)
    canvas = Canvas(0.0, y_hi * 1.1, y_format=lambda v: f"{v:.3g}", y_label="loss")
    canvas.y_axis(nice_step(y_hi * 1.1, 4))

    def x_of(step: float) -> float:
        return canvas.left + (step - x_lo) / max(x_hi - x_lo, 1e-9) * (canvas.right - canvas.left)

    tick = nice_step(x_hi - x_lo, 6)
    value = x_lo
    while value <= x_hi + 1e-9:
        canvas.text(x_of(value), canvas.bottom + 15, fmt(value), size=10)
        value += tick
    canvas.text((canvas.left + canvas.right) / 2, canvas.height - 3, "global step", size=10)
    for start, iteration in starts:
        canvas.vline(x_of(start), iteration_label(iteration))
    line = Series("loss", "#4e79a7", [], width=2)
    canvas.polyline([(x_of(x), canvas.y(loss)) for x, loss, _ in points], line)
    for x, loss, iteration in points:
        canvas.marker(
            x_of(x),
            canvas.y(loss),
            line.colour,
            f"step {fmt(x)} ({iteration_label(iteration)}): {loss:.4f}",
            2.5,
        )
    return Chart(
        "Training loss",
        canvas.svg("Training loss per logged step"),
        [LegendItem("loss", line.colour)],
    )


def band_charts(run: RunData) -> list[SmallMultiple]:
    """Confidence-band shares per iteration: all tasks first, then one small chart per task."""
    if not any(it.scored for it in run.iterations):
        return []
    labels = [iteration_label(it.iteration) for it in run.iterations]
    charts = [
        SmallMultiple(
            "all task types",
            _band_svg(labels, [_total(it) for it in run.iterations], "all task types"),
        )
    ]
    for task in run.task_types():
        stats = [it.tasks.get(task) for it in run.iterations]
        if any(s is not None and s.scored for s in stats):
            charts.append(SmallMultiple(task, _band_svg(labels, stats, task)))
    return charts


def _total(it: IterationData) -> TaskTally:
    totals = it.band_totals()
    return TaskTally(proposed=it.proposed, accepted=it.accepted, **totals)


def _band_svg(labels: list[str], stats: list[TaskTally | None], title: str) -> str:
    canvas = Canvas(0.0, 1.0, width=250, height=170)
    canvas.top = 26
    canvas.left = 40
    canvas.y_axis(0.5)
    canvas.x_labels(labels)
    bar = min(34.0, canvas.slot_width(len(labels)) * 0.62)
    for index, row in enumerate(stats):
        x = canvas.slot(index, len(labels)) - bar / 2
        scored = row.scored if row is not None else 0
        if not scored:
            canvas.text(x + bar / 2, canvas.bottom - 6, "–", size=10)
            continue
        base = 0.0
        for band in reversed(BANDS):  # hard at the bottom, easy on top
            share = row.bands[band] / scored
            if share:
                top = canvas.y(base + share)
                tooltip = (
                    f"{labels[index]}: {band} {row.bands[band]} of {scored} ({100 * share:.0f}%)"
                )
                canvas.rect(x, top, bar, canvas.y(base) - top, BAND_COLOURS[band], tooltip)
                base += share
        canvas.text(x + bar / 2, canvas.top - 4, f"n={scored}", size=9)
    return canvas.svg(f"Confidence bands: {title}")


def band_legend(run: RunData) -> list[LegendItem]:
    t = run.thresholds
    return [
        LegendItem(f"easy (p > {t.easy:.3g})", BAND_COLOURS["easy"]),
        LegendItem(f"frontier ({t.hard:.3g} ≤ p ≤ {t.easy:.3g})", BAND_COLOURS["frontier"]),
        LegendItem(f"hard (p < {t.hard:.3g})", BAND_COLOURS["hard"]),
    ]
