"""The experiment's tables (rich for the terminal, Markdown for docs/results.md) and its plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.console import Console
from rich.table import Table

COLOURS = {"static": "#8C8C8C", "feedback": "#C44E52", "band": "#4C72B0"}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def budget_rows(summary: dict[str, Any]) -> list[list[str]]:
    """arm, iterations, proposed, accepted, trained on, mean, sd, min-max (scores in %)."""
    rows = []
    for arm, points in summary["table"].items():
        for p in points:
            o = p["overall"]
            rows.append(
                [
                    arm,
                    str(p["iterations"]),
                    f"{p['proposed']:.0f}",
                    f"{p['accepted']:.0f}",
                    f"{p['trained_on']:.0f}",
                    _pct(o["mean"]),
                    _pct(o["sd"]),
                    f"{_pct(o['min'])}-{_pct(o['max'])}",
                    _signed(p.get("vs_static")),
                ]
            )
    return rows


def _signed(diff: dict[str, float] | None) -> str:
    if diff is None:
        return "-"
    return f"{100 * diff['mean']:+.1f} ± {100 * diff['sd']:.1f}"


BUDGET_HEADER = [
    "arm",
    "iterations",
    "proposed",
    "accepted",
    "trained on",
    "held-out %",
    "sd",
    "min-max",
    "vs static (paired)",
]


def task_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Per task type at the largest budget, one column per arm (mean over seeds, %)."""
    arms = list(summary["table"])
    last = {arm: summary["table"][arm][-1]["tasks"] for arm in arms}
    tasks = sorted({task for scores in last.values() for task in scores})
    return ["task", *arms], [[t, *(_pct(last[a].get(t)) for a in arms)] for t in tasks]


def round_rows(summary: dict[str, Any], top: int = 2) -> list[list[str]]:
    """Per arm, at the budget rounds: confidence, bands, numeric answers' hard share, and
    how far the proposer's quotas moved from the static arm's (total variation)."""
    rows = []
    keep = set(summary["budget_iterations"])
    for arm, rounds in summary["rounds"].items():
        for r in rounds:
            if r["iteration"] not in keep:
                continue
            tasks = sorted(r["task_share"].items(), key=lambda kv: -kv[1])[:top]
            numeric = r["kind_bands"].get("numeric", {})
            shift = r.get("shift") or {}
            rows.append(
                [
                    arm,
                    str(r["iteration"]),
                    f"{r['mean_confidence']:.3f}",
                    _pct(r["bands"].get("hard")),
                    _pct(r["bands"].get("frontier")),
                    _pct(r["bands"].get("easy")),
                    f"{_pct(numeric.get('hard'))} of {_pct(numeric.get('share'))}",
                    f"{_pct(shift.get('task'))} / {_pct(shift.get('level'))}",
                    ", ".join(f"{t} {100 * v:.0f}%" for t, v in tasks),
                ]
            )
    return rows


ROUND_HEADER = [
    "arm",
    "round",
    "mean p",
    "hard %",
    "frontier %",
    "easy %",
    "numeric: hard % of share %",
    "quota shift vs static: task / level %",
    "largest quotas",
]


def headline_rows(summary: dict[str, Any]) -> list[list[str]]:
    return [
        [arm, h["axis"], _pct(h["reference_best"]), f"{h['reference_samples']:.0f}", h["verdict"]]
        for arm, h in summary["headline"].items()
    ]


HEADLINE_HEADER = ["vs static", "axis", "static best %", "static needs", "ratio"]


def _rich(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=title)
    for name in header:
        table.add_column(name)
    for row in rows:
        table.add_row(*row)
    return table


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def sections(results: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    summary, warmup = results["summary"], results["warmup"]
    warm = [
        ["samples", str(warmup.get("samples"))],
        ["forms", ", ".join(f"{k} {v}" for k, v in (warmup.get("forms") or {}).items()) or "-"],
        ["steps x batch", f"{warmup.get('steps')} x {warmup.get('global_batch_size', '-')}"],
        ["epochs", str(warmup.get("epochs", "-"))],
        [
            "loss first -> last",
            f"{warmup.get('first_loss') or 0:.2f} -> {warmup.get('last_loss') or 0:.2f}",
        ],
        ["held-out before", _pct(warmup["before"]["overall"])],
        ["held-out after", _pct(warmup["after"]["overall"])],
    ]
    check = warmup.get("perception_check")
    if check:
        for form, majority in check["majority"].items():
            warm.append(
                [
                    f"{form} on unseen scenes",
                    f"{_pct(check['before'][form])} -> {_pct(check['after'][form])} "
                    f"(most common answer: {_pct(majority)})",
                ]
            )
    task_header, tasks = task_rows(summary)
    return [
        ("Warm-up", ["", "value"], warm),
        ("Held-out ProcSpatial by arm and budget", BUDGET_HEADER, budget_rows(summary)),
        ("Per task type at the largest budget (%)", task_header, tasks),
        ("Rounds: confidence before training, proposer quotas", ROUND_HEADER, round_rows(summary)),
        (
            "Headline: samples static needs / samples the arm needs",
            HEADLINE_HEADER,
            headline_rows(summary),
        ),
    ]


def print_tables(console: Console, results: dict[str, Any]) -> None:
    for title, header, rows in sections(results):
        console.print(_rich(title, header, rows))


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    parts = [
        f"### {title}\n\n{markdown(header, rows)}\n" for title, header, rows in sections(results)
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def plot(results: dict[str, Any], path: Path) -> Path:
    """Held-out score vs samples (accepted and trained on), band shares per round, final quotas."""
    summary = results["summary"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, axis in ((axes[0][0], "accepted"), (axes[0][1], "trained_on")):
        for arm, curve in summary["curves"].items():
            x = [p[axis] for p in curve]
            mean = [100 * p["overall"]["mean"] for p in curve]
            sd = [100 * p["overall"]["sd"] for p in curve]
            colour = COLOURS.get(arm)
            ax.plot(x, mean, marker="o", ms=3, color=colour, label=arm)
            low = [m - s for m, s in zip(mean, sd, strict=True)]
            high = [m + s for m, s in zip(mean, sd, strict=True)]
            ax.fill_between(x, low, high, color=colour, alpha=0.15)
        warm = 100 * results["warmup"]["after"]["overall"]
        ax.axhline(warm, ls="--", c="k", lw=0.8, label="start (after warm-up)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(f"cumulative samples {axis.replace('_', ' ')} (mean over seeds)")
        ax.set_ylabel("held-out ProcSpatial overall (%)")
        ax.set_title(f"held-out vs samples {axis.replace('_', ' ')} (band: ±1 sd)")
        ax.legend(fontsize=8)
    ax = axes[1][0]
    for arm, rounds in summary["rounds"].items():
        rounds_x = [r["iteration"] for r in rounds]
        ax.plot(
            rounds_x,
            [100 * r["bands"]["frontier"] for r in rounds],
            color=COLOURS.get(arm),
            marker="o",
            ms=3,
            label=f"{arm} frontier",
        )
        ax.plot(
            rounds_x,
            [100 * r["bands"]["hard"] for r in rounds],
            color=COLOURS.get(arm),
            ls=":",
            label=f"{arm} hard",
        )
    ax.set_xlabel("round")
    ax.set_ylabel("share of accepted samples (%)")
    ax.set_title("solver confidence bands per round (before training)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1][1]
    arms = list(summary["rounds"])
    finals = {arm: summary["rounds"][arm][-1]["task_share"] for arm in arms}
    tasks = sorted({t for shares in finals.values() for t in shares})
    height = 0.8 / max(len(arms), 1)
    for k, arm in enumerate(arms):
        ys = [i + k * height for i in range(len(tasks))]
        ax.barh(
            ys,
            [100 * finals[arm].get(t, 0.0) for t in tasks],
            height=height,
            color=COLOURS.get(arm),
            label=arm,
        )
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(tasks))], tasks, fontsize=7)
    ax.set_xlabel("share of the last round's quotas (%)")
    ax.set_title("what the proposer was asked for in the last round")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
