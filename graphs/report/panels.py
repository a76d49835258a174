"""The report's small-multiple panels: held-out score per task with n, 95% interval and
chance; confidence histograms per iteration; calibration; the curriculum's quota shift.

Each returns `SmallMultiple`s (or a `Chart`) drawn with `svg.Canvas`, like `charts`.
"""

from __future__ import annotations

import math

from graphs.report.charts import (
    BAND_COLOURS,
    OVERALL_COLOUR,
    Chart,
    LegendItem,
    SmallMultiple,
    TaskColours,
    iteration_label,
)
from graphs.report.data import HeldOut, RunData
from graphs.report.heldout import TaskInterval
from graphs.report.svg import Canvas, Series, fmt, nice_step

CHANCE_COLOUR = "#9a3412"
REQUESTED_COLOUR = "#c9d3e0"
MADE_COLOUR = "#3b6ea5"
CORRECT_COLOUR = "#3b8f6a"
#: Histogram bins over log10(confidence): 1e-4 (and below) up to 1.
LOG_LOW, LOG_HIGH, BINS = -4.0, 0.0, 16
SMALL = {"width": 250, "height": 170}


def _small_canvas(y_max: float = 1.0, **options: object) -> Canvas:
    canvas = Canvas(0.0, y_max, **SMALL, **options)  # type: ignore[arg-type]
    canvas.top, canvas.left = 26, 40
    return canvas


def _dashed(canvas: Canvas, y: float, colour: str, tooltip: str) -> None:
    canvas.add(
        f'<line x1="{fmt(canvas.left)}" x2="{fmt(canvas.right)}" y1="{fmt(y)}" y2="{fmt(y)}" '
        f'stroke="{colour}" stroke-width="1.4" stroke-dasharray="5 3" class="chance">'
        f"<title>{tooltip}</title></line>"
    )


def _evaluations(run: RunData) -> list[tuple[str, HeldOut]]:
    pairs = [("start", run.baseline)] + [
        (iteration_label(it.iteration), it.heldout) for it in run.iterations
    ]
    return [(label, ev) for label, ev in pairs if ev is not None]


def heldout_multiples(run: RunData, colours: TaskColours) -> list[SmallMultiple]:
    """Overall first, then one panel per task: score per evaluation with its 95% interval,
    the chance level dashed, n in the title (the same questions in every evaluation)."""
    evaluations = _evaluations(run)
    if not evaluations:
        return []
    labels = [label for label, _ in evaluations]
    panels = [
        _score_panel(
            evaluations[-1][1].overall_label,
            labels,
            [ev.overall_interval for _, ev in evaluations],
            OVERALL_COLOUR,
        )
    ]
    for task in run.heldout_tasks():
        panels.append(
            _score_panel(
                task, labels, [ev.intervals.get(task) for _, ev in evaluations], colours(task)
            )
        )
    return panels


def _score_panel(
    name: str, labels: list[str], points: list[TaskInterval | None], colour: str
) -> SmallMultiple:
    canvas = _small_canvas()
    canvas.y_axis(0.5)
    canvas.x_labels(labels)
    known = [p for p in points if p is not None]
    chance = next((p.chance for p in reversed(known) if p.chance is not None), None)
    if chance is not None:
        _dashed(canvas, canvas.y(chance), CHANCE_COLOUR, f"chance {100 * chance:.1f}%")
    line: list[tuple[float, float]] = []
    for index, point in enumerate(points):
        if point is None:
            continue
        x = canvas.slot(index, len(labels))
        canvas.add(
            f'<line x1="{fmt(x)}" x2="{fmt(x)}" y1="{fmt(canvas.y(point.low))}" '
            f'y2="{fmt(canvas.y(point.high))}" stroke="{colour}" stroke-width="2" '
            'stroke-opacity="0.55" class="interval"/>'
        )
        for end in (point.low, point.high):
            canvas.add(
                f'<line x1="{fmt(x - 4)}" x2="{fmt(x + 4)}" y1="{fmt(canvas.y(end))}" '
                f'y2="{fmt(canvas.y(end))}" stroke="{colour}" stroke-opacity="0.55"/>'
            )
        line.append((x, canvas.y(point.score)))
        canvas.marker(
            x,
            canvas.y(point.score),
            colour,
            f"{name}, {labels[index]}: {100 * point.score:.1f}% "
            f"(95% interval {100 * point.low:.0f}–{100 * point.high:.0f}%, n={point.n})",
            radius=3.5,
        )
    canvas.polyline(line, Series(name, colour, [], width=1.4))
    n = known[-1].n if known else 0
    chance_text = f"chance {100 * chance:.0f}%" if chance is not None else "no chance level"
    canvas.text(canvas.right, canvas.top - 8, f"n={n} · {chance_text}", anchor="end", size=9)
    return SmallMultiple(name, canvas.svg(f"Held-out score: {name} (n={n})"))


def heldout_legend() -> list[LegendItem]:
    return [
        LegendItem("score (dot) with its 95% interval (bar)", OVERALL_COLOUR),
        LegendItem("chance level (dashed)", CHANCE_COLOUR),
    ]


def _bin(confidence: float) -> int:
    value = math.log10(max(confidence, 10**LOG_LOW))
    share = (value - LOG_LOW) / (LOG_HIGH - LOG_LOW)
    return min(BINS - 1, int(share * BINS))


def confidence_histograms(run: RunData) -> list[SmallMultiple]:
    """Per iteration: how many accepted samples fell at each confidence (log scale), with
    the band edges drawn, so a run whose solver is unsure of everything shows it at once."""
    panels = []
    for it in run.iterations:
        values = [s.confidence for s in it.samples if s.confidence is not None]
        if not values:
            continue
        counts = [0] * BINS
        for value in values:
            counts[_bin(value)] += 1
        tallest = max(counts)
        canvas = _small_canvas(tallest * 1.15, y_format=lambda v: f"{v:.0f}")
        canvas.y_axis(nice_step(tallest * 1.15, 3) or 1)
        width = (canvas.right - canvas.left) / BINS

        def x_of(log_value: float, c: Canvas = canvas) -> float:
            return c.left + (log_value - LOG_LOW) / (LOG_HIGH - LOG_LOW) * (c.right - c.left)

        for index, count in enumerate(counts):
            if not count:
                continue
            low = LOG_LOW + index * (LOG_HIGH - LOG_LOW) / BINS
            band = run.thresholds.band(10 ** (low + 0.5 * (LOG_HIGH - LOG_LOW) / BINS)) or "hard"
            top = canvas.y(count)
            canvas.rect(x_of(low) + 0.5, top, width - 1, canvas.bottom - top, BAND_COLOURS[band],
                        f"p in [{10**low:.2g}, {10 ** (low + 0.25):.2g}): {count}")  # fmt: skip
        for power in range(int(LOG_LOW), int(LOG_HIGH) + 1):
            canvas.text(x_of(power), canvas.bottom + 15, f"1e{power}" if power else "1", size=9)
        for edge, anchor, nudge in (
            (run.thresholds.hard, "end", -3),
            (run.thresholds.easy, "start", 3),
        ):
            x = x_of(math.log10(max(edge, 10**LOG_LOW)))
            canvas.add(
                f'<line x1="{fmt(x)}" x2="{fmt(x)}" y1="{fmt(canvas.top)}" '
                f'y2="{fmt(canvas.bottom)}" stroke="#5b6473" stroke-dasharray="3 3"/>'
            )
            canvas.text(x + nudge, canvas.top + 9, f"{edge:.2g}", anchor=anchor, size=9)
        canvas.text(canvas.right, canvas.top - 8, f"n={len(values)}", anchor="end", size=9)
        title = f"{iteration_label(it.iteration)}: confidence of {len(values)} samples"
        panels.append(SmallMultiple(iteration_label(it.iteration), canvas.svg(title)))
    return panels


def calibration_chart(run: RunData) -> Chart | None:
    """Confidence against correctness on multiple-choice samples: per confidence bin, the
    share whose most likely option letter is the right one. Perfect calibration is the
    dashed diagonal; a solver that is right more often than its confidence sits above it."""
    pairs: list[tuple[float, bool]] = []
    for it in run.iterations:
        for sample in it.samples:
            if sample.confidence is None or not sample.letter_probs or not sample.ground_truth:
                continue
            best = max(sample.letter_probs, key=lambda letter: sample.letter_probs[letter])
            pairs.append((sample.confidence, best == sample.ground_truth))
    if not pairs:
        return None
    bins: dict[int, list[bool]] = {}
    for confidence, correct in pairs:
        bins.setdefault(_bin(confidence), []).append(correct)
    canvas = Canvas(0.0, 1.0, y_label="share right (top option)")
    canvas.y_axis(0.25)

    def x_of(log_value: float) -> float:
        return canvas.left + (log_value - LOG_LOW) / (LOG_HIGH - LOG_LOW) * (
            canvas.right - canvas.left
        )

    diagonal = [(x_of(LOG_LOW + i / 20 * (LOG_HIGH - LOG_LOW)),
                 canvas.y(10 ** (LOG_LOW + i / 20 * (LOG_HIGH - LOG_LOW)))) for i in range(21)]  # fmt: skip
    path = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in diagonal)
    canvas.add(f'<polyline points="{path}" fill="none" stroke="#8a94a6" stroke-dasharray="5 3"/>')
    for power in range(int(LOG_LOW), int(LOG_HIGH) + 1):
        canvas.text(x_of(power), canvas.bottom + 15, f"1e{power}" if power else "1", size=10)
    canvas.text((canvas.left + canvas.right) / 2, canvas.height - 3, "confidence p", size=10)
    step = (LOG_HIGH - LOG_LOW) / BINS
    for index, outcomes in sorted(bins.items()):
        share = sum(outcomes) / len(outcomes)
        x, y = x_of(LOG_LOW + (index + 0.5) * step), canvas.y(share)
        radius = 3 + min(6.0, math.sqrt(len(outcomes)))
        canvas.marker(x, y, CORRECT_COLOUR, f"p ≈ {10 ** (LOG_LOW + (index + 0.5) * step):.2g}: "
                      f"{sum(outcomes)} of {len(outcomes)} right", radius)  # fmt: skip
        canvas.text(x, y - radius - 3, f"n={len(outcomes)}", size=9)
    return Chart(
        "Calibration: confidence vs correctness",
        canvas.svg("Calibration on multiple-choice samples"),
        [
            LegendItem("share whose top option is right (dot size: n)", CORRECT_COLOUR),
            LegendItem("perfect calibration", "#8a94a6"),
        ],
        note=f"{len(pairs)} multiple-choice samples over all iterations; numeric answers have "
        "no option distribution and are left out.",
    )


def quota_multiples(run: RunData, colours: TaskColours) -> list[SmallMultiple]:
    """Per task: questions the curriculum requested vs candidates made, per iteration."""
    iterations = [it for it in run.iterations if it.quotas or it.tasks]
    if not any(it.quotas for it in iterations):
        return []
    tasks = sorted({t for it in iterations for t in (*it.quotas, *it.tasks)})
    labels = [iteration_label(it.iteration) for it in iterations]
    tallest = max(
        max(it.quotas.get(t, 0), it.tasks[t].proposed if t in it.tasks else 0)
        for it in iterations
        for t in tasks
    )
    panels = []
    for task in tasks:
        canvas = _small_canvas(max(tallest, 1) * 1.15, y_format=lambda v: f"{v:.0f}")
        canvas.y_axis(nice_step(max(tallest, 1) * 1.15, 3) or 1)
        canvas.x_labels(labels)
        bar = min(14.0, canvas.slot_width(len(labels)) * 0.3)
        for index, it in enumerate(iterations):
            x = canvas.slot(index, len(labels))
            asked = it.quotas.get(task, 0)
            made = it.tasks[task].proposed if task in it.tasks else 0
            for offset, value, fill, what in ((-bar, asked, REQUESTED_COLOUR, "requested"),
                                               (0.0, made, MADE_COLOUR, "made")):  # fmt: skip
                top = canvas.y(value)
                canvas.rect(x + offset, top, bar, canvas.bottom - top, fill,
                            f"{task}, {labels[index]}: {what} {value}")  # fmt: skip
            canvas.text(x, canvas.top - 4, f"{asked} → {made}", size=9)
        panels.append(SmallMultiple(task, canvas.svg(f"Quota: {task}")))
    return panels


def quota_legend() -> list[LegendItem]:
    return [
        LegendItem("requested by the curriculum (plan.json)", REQUESTED_COLOUR),
        LegendItem("candidates made (samples.parquet); numbers: requested → made", MADE_COLOUR),
    ]
