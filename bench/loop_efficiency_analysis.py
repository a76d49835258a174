"""From finished loop runs to the experiment's numbers: curves, budget table, headline ratio.

Pure functions of the run directories (graphs/store.py layout) and plain dicts, so the
rules (what counts as a budget, when an arm "reaches" a score) are tested on their own.

Sample counts are cumulative per run: `proposed` (programs the proposer wrote),
`accepted` (the verifier kept them: the data budget) and `trained_on` (what SFT saw;
below `accepted` only in the band arm, which drops easy and hard samples).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from agents.bands import BandThresholds
from agents.sample_io import read_samples
from graphs.store import RunStore
from graphs.summary import HeldOutSummary, read_history

HISTOGRAM_BINS = 10
COUNTS = ("proposed", "accepted", "trained_on")


def budget_iterations(iterations: int) -> list[int]:
    """Iterations after which the cumulative budget has doubled: 0, 1, 3, 7, ..."""
    points, done = [], 1
    while done <= iterations:
        points.append(done - 1)
        done *= 2
    return points


def _shares(counts: dict[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {key: value / total for key, value in sorted(counts.items())} if total else {}


def round_record(store: RunStore, iteration: int, thresholds: BandThresholds) -> dict[str, Any]:
    """One round: the solver's confidence on its accepted samples (before training on them),
    overall and per answer kind, and the quotas the proposer was asked for, as shares per
    task type and per level."""
    scored = [s for s in read_samples(store.scored_path(iteration)) if s.confidence is not None]
    confidences = [float(s.confidence) for s in scored]
    histogram = [0] * HISTOGRAM_BINS
    for p in confidences:
        histogram[min(int(p * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    by_kind: dict[str, list[float]] = {}
    for sample in scored:
        by_kind.setdefault(sample.proposal.answer_kind, []).append(float(sample.confidence))
    plan = store.read_json(store.iteration_dir(iteration) / "plan.json")
    tasks: dict[str, float] = {}
    levels: dict[str, float] = {}
    for task, level, count in plan["quotas"]:
        tasks[task] = tasks.get(task, 0) + count
        levels[str(level)] = levels.get(str(level), 0) + count
    return {
        "iteration": iteration,
        "scored": len(confidences),
        "mean_confidence": sum(confidences) / (len(confidences) or 1),
        "histogram": histogram,
        "bands": thresholds.shares(confidences),
        "kind_bands": {
            kind: {**thresholds.shares(ps), "share": len(ps) / len(confidences)}
            for kind, ps in sorted(by_kind.items())
        },
        "task_share": _shares(tasks),
        "level_share": _shares(levels),
    }


def run_record(store: RunStore, arm: str, seed: int) -> dict[str, Any]:
    """Held-out score after every iteration against cumulative sample counts, and its rounds."""
    history = read_history(store)
    loop = store.read_config()["loop"]
    thresholds = BandThresholds(easy=loop["easy"], hard=loop["hard"])
    baseline = history[0].heldout
    points, totals = [], dict.fromkeys(COUNTS, 0)
    for entry in history[1:]:
        for key in COUNTS:
            totals[key] += getattr(entry, key)
        heldout = entry.heldout or HeldOutSummary()
        points.append(
            {
                "iteration": entry.iteration,
                **totals,
                "overall": heldout.overall,
                "tasks": heldout.tasks,
            }
        )
    rounds = [round_record(store, entry.iteration, thresholds) for entry in history[1:]]
    return {
        "arm": arm,
        "seed": seed,
        "baseline": baseline.overall if baseline else None,
        "points": points,
        "rounds": rounds,
    }


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def _mean_dicts(dicts: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = sorted({key for d in dicts for key in d})
    return {key: statistics.fmean(d.get(key, 0.0) for d in dicts) for key in keys}


def arm_curve(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per iteration, over an arm's seeds: score spread, mean counts, mean per-task scores."""
    length = min(len(run["points"]) for run in runs)
    curve = []
    for i in range(length):
        points = [run["points"][i] for run in runs]
        curve.append(
            {
                "iteration": points[0]["iteration"],
                **{key: statistics.fmean(p[key] for p in points) for key in COUNTS},
                "overall": _spread([p["overall"] for p in points]),
                "tasks": _mean_dicts([p["tasks"] for p in points]),
            }
        )
    return curve


def _mean_nested(dicts: Sequence[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    keys = sorted({key for d in dicts for key in d})
    return {key: _mean_dicts([d[key] for d in dicts if key in d]) for key in keys}


def total_variation(a: dict[str, float], b: dict[str, float]) -> float:
    """Half the L1 distance between two share dicts: 0 same mix, 1 nothing in common."""
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def arm_rounds(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per round, over an arm's seeds: mean confidence, histogram, band and quota shares."""
    length = min(len(run["rounds"]) for run in runs)
    out = []
    for i in range(length):
        rounds = [run["rounds"][i] for run in runs]
        out.append(
            {
                "iteration": rounds[0]["iteration"],
                "mean_confidence": statistics.fmean(r["mean_confidence"] for r in rounds),
                "histogram": [
                    sum(col) for col in zip(*(r["histogram"] for r in rounds), strict=True)
                ],
                "bands": _mean_dicts([r["bands"] for r in rounds]),
                "kind_bands": _mean_nested([r["kind_bands"] for r in rounds]),
                "task_share": _mean_dicts([r["task_share"] for r in rounds]),
                "level_share": _mean_dicts([r["level_share"] for r in rounds]),
            }
        )
    return out


def add_shift(rounds: dict[str, list[dict[str, Any]]], reference: str = "static") -> None:
    """How far each arm's quotas moved from the reference arm's, per round (task and level)."""
    if reference not in rounds:
        return
    for arm_rounds_ in rounds.values():
        for own, ref in zip(arm_rounds_, rounds[reference], strict=False):
            own["shift"] = {
                "task": total_variation(own["task_share"], ref["task_share"]),
                "level": total_variation(own["level_share"], ref["level_share"]),
            }


def paired_difference(
    runs: Sequence[dict[str, Any]], arm: str, reference: str, index: int
) -> dict[str, float] | None:
    """Arm minus reference score after iteration `index`, paired by seed (same scenes,
    same first round), as mean and sd over seeds."""
    mine = {r["seed"]: r["points"][index]["overall"] for r in runs if r["arm"] == arm}
    theirs = {r["seed"]: r["points"][index]["overall"] for r in runs if r["arm"] == reference}
    diffs = [mine[seed] - theirs[seed] for seed in sorted(set(mine) & set(theirs))]
    return _spread(diffs) if diffs else None


def reach(curve: Sequence[dict[str, Any]], score: float, axis: str) -> float | None:
    """Samples (mean of `axis`) at the first iteration whose mean score reaches `score`."""
    for point in curve:
        if point["overall"]["mean"] >= score - 1e-9:
            return float(point[axis])
    return None


def headline(
    reference: Sequence[dict[str, Any]],
    challenger: Sequence[dict[str, Any]],
    axis: str = "accepted",
) -> dict[str, Any]:
    """Samples the reference needs to reach its best mean score, divided by the samples the
    challenger needs to reach that same score. If the challenger never does within its
    budget, there is no ratio: it would need more than its largest budget, so the ratio is
    below reference samples / challenger's largest budget (`upper_bound`)."""
    best = max(point["overall"]["mean"] for point in reference)
    needed = reach(reference, best, axis)
    assert needed is not None  # the reference reaches its own best
    got = reach(challenger, best, axis)
    result: dict[str, Any] = {
        "axis": axis,
        "reference_best": best,
        "reference_samples": needed,
        "challenger_samples": got,
        "ratio": needed / got if got else None,
    }
    if got is None:
        largest = float(challenger[-1][axis])
        result["upper_bound"] = needed / largest if largest else None
        bound = f"{result['upper_bound']:.2f}" if largest else "undefined"
        result["verdict"] = f"not reached within {largest:.0f} samples (ratio < {bound})"
    elif got == 0:
        result["verdict"] = "reached with no samples on this axis (ratio unbounded)"
    else:
        result["verdict"] = f"{result['ratio']:.2f}x ({needed:.0f} vs {got:.0f} samples)"
    return result


def summarize(
    runs: Sequence[dict[str, Any]], arms: Sequence[str], iterations: int
) -> dict[str, Any]:
    """Curves, rounds, the arm x budget table and the headline ratios from all run records."""
    by_arm = {arm: [run for run in runs if run["arm"] == arm] for arm in arms}
    curves = {arm: arm_curve(group) for arm, group in by_arm.items() if group}
    budgets = [i for i in budget_iterations(iterations) if all(i < len(c) for c in curves.values())]
    table = {
        arm: [
            {
                "iterations": i + 1,
                **curve[i],
                "vs_static": paired_difference(runs, arm, "static", i) if arm != "static" else None,
            }
            for i in budgets
        ]
        for arm, curve in curves.items()
    }
    rounds = {arm: arm_rounds(group) for arm, group in by_arm.items() if group}
    add_shift(rounds)
    headlines: dict[str, Any] = {}
    if "static" in curves:
        for arm in curves:
            if arm != "static":
                headlines[arm] = headline(curves["static"], curves[arm])
        if "band" in curves:
            headlines["band (trained-on axis)"] = headline(
                curves["static"], curves["band"], "trained_on"
            )
    return {
        "budget_iterations": budgets,
        "baseline": _spread([run["baseline"] for run in runs]) if runs else None,
        "curves": curves,
        "rounds": rounds,
        "table": table,
        "headline": headlines,
    }
