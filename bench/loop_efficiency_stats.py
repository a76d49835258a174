"""Numbers of the pooled loop-efficiency experiment: samples-to-threshold ratios with
bootstrap intervals over paired seeds, and the frontier table. Pure functions of run
records (dicts), so the rules are tested on their own.

A run record holds, per round, the cumulative accepted samples it trained on and the
held-out score after training on them (`rounds`: [{"samples", "overall", "tasks"}]),
preceded by the shared starting point (samples 0). Round 0 is the same uniform draw in
every arm of a seed (no feedback exists yet).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import Any


def mean_curve(runs: Sequence[dict[str, Any]]) -> list[tuple[float, float]]:
    """(mean samples, mean held-out score) per round over runs (rounds aligned by index)."""
    length = min(len(run["rounds"]) for run in runs)
    return [
        (
            statistics.mean(run["rounds"][i]["samples"] for run in runs),
            statistics.mean(run["rounds"][i]["overall"] for run in runs),
        )
        for i in range(length)
    ]


def samples_to(curve: Sequence[tuple[float, float]], target: float) -> float | None:
    """Samples at the first point whose score reaches `target` (None: never)."""
    for samples, score in curve:
        if score >= target - 1e-12:
            return samples
    return None


def ratio(static: Sequence[tuple[float, float]], arm: Sequence[tuple[float, float]]) -> dict:
    """static's samples to its best trained score over the arm's samples to that score.

    Curves start with the shared starting point (0 samples), which is left out: the target
    is the best score static reaches by training. If the arm never gets there the ratio is
    censored: it is below static samples / the arm's largest budget (`bound`).
    """
    static, arm = static[1:], arm[1:]
    best = max(score for _, score in static)
    needed = samples_to(static, best)
    got = samples_to(arm, best)
    if got is None:
        largest = arm[-1][0]
        return {"value": needed / largest if largest else 0.0, "censored": True, "target": best}
    return {"value": needed / got if got else float("inf"), "censored": False, "target": best}


def bootstrap_ratio(
    static_runs: Sequence[dict[str, Any]],
    arm_runs: Sequence[dict[str, Any]],
    draws: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """The ratio on seed-mean curves, and its 95% interval from resampling paired seeds.

    Runs are paired by their "seed"; each draw resamples seeds with replacement and
    recomputes both mean curves. Censored draws enter with their bound (an upper limit).
    """
    seeds = sorted({run["seed"] for run in static_runs} & {run["seed"] for run in arm_runs})
    static_by = {run["seed"]: run for run in static_runs}
    arm_by = {run["seed"]: run for run in arm_runs}
    point = ratio(mean_curve([static_by[s] for s in seeds]), mean_curve([arm_by[s] for s in seeds]))
    rng = random.Random(seed)
    values, censored = [], 0
    for _ in range(draws):
        pick = [rng.choice(seeds) for _ in seeds]
        r = ratio(mean_curve([static_by[s] for s in pick]), mean_curve([arm_by[s] for s in pick]))
        values.append(r["value"])
        censored += r["censored"]
    values.sort()
    low, high = values[int(0.025 * (draws - 1))], values[int(0.975 * (draws - 1))]
    return {
        **point,
        "low": low,
        "high": high,
        "censored_share": censored / draws,
        "seeds": len(seeds),
    }


def paired_final_difference(
    static_runs: Sequence[dict[str, Any]], arm_runs: Sequence[dict[str, Any]]
) -> dict[str, float]:
    """Final held-out score, arm minus static, per paired seed: mean and sd (points)."""
    static_by = {run["seed"]: run for run in static_runs}
    diffs = [
        run["rounds"][-1]["overall"] - static_by[run["seed"]]["rounds"][-1]["overall"]
        for run in arm_runs
        if run["seed"] in static_by
    ]
    return {
        "mean": statistics.mean(diffs) if diffs else 0.0,
        "sd": statistics.stdev(diffs) if len(diffs) > 1 else 0.0,
    }


def frontier_table(
    static_runs: Sequence[dict[str, Any]], gain: float = 0.10, baseline: int = 1
) -> list[dict]:
    """Per task: the static arm's seed-mean held-out score at every point, and when it is
    learned, counting gains over point `baseline` (1: round 0, after the first batch has
    taught the answer formats): 'early' (a point in the first half of the later rounds
    gains >= `gain`), 'late' (only the second half does), 'never' (none does)."""
    length = min(len(run["rounds"]) for run in static_runs)
    tasks = sorted({t for run in static_runs for t in run["rounds"][0]["tasks"]})
    rows = []
    for task in tasks:
        curve = [
            statistics.mean(run["rounds"][i]["tasks"].get(task, 0.0) for run in static_runs)
            for i in range(length)
        ]
        later = [score - curve[baseline] for score in curve[baseline + 1 :]]
        half = (len(later) + 1) // 2
        learned = (
            "early"
            if later and max(later[:half]) >= gain
            else "late"
            if later and max(later) >= gain
            else "never"
        )
        rows.append({"task": task, "curve": curve, "learned": learned})
    return rows


def quota_rows(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per round after round 0, over seeds: the quota shift from the previous round (half
    the L1 distance of task shares), made per requested slot, and the largest task shares."""
    length = min(len(run["rounds"]) for run in runs)
    rows = []
    for i in range(2, length):
        shifts, made, requested, shares = [], 0, 0, {}
        for run in runs:
            now, before = run["rounds"][i]["quotas"], run["rounds"][i - 1]["quotas"]
            a, b = _task_shares(now), _task_shares(before)
            shifts.append(0.5 * sum(abs(a.get(t, 0) - b.get(t, 0)) for t in set(a) | set(b)))
            requested += sum(row[2] for row in now)
            made += run["rounds"][i]["samples"] - run["rounds"][i - 1]["samples"]
            for task, share in a.items():
                shares[task] = shares.get(task, 0.0) + share / len(runs)
        top = sorted(shares.items(), key=lambda kv: -kv[1])[:3]
        rows.append(
            {
                "round": i - 1,
                "shift": statistics.mean(shifts),
                "made_per_slot": made / requested if requested else 0.0,
                "top": top,
            }
        )
    return rows


def _task_shares(quotas: Sequence[Sequence[Any]]) -> dict[str, float]:
    total = sum(row[2] for row in quotas) or 1
    shares: dict[str, float] = {}
    for row in quotas:
        shares[row[0]] = shares.get(row[0], 0.0) + row[2] / total
    return shares


def markdown_tables(results: dict[str, Any]) -> str:
    """The markdown tables: per arm ratio with interval, final score, and the frontier table."""
    runs = results["runs"]
    by_arm = {arm: [r for r in runs if r["arm"] == arm] for arm in results["arms"]}
    static = by_arm.get("static", [])
    lines = [
        f"Size `{results['size']}`: {results['rounds']} rounds of {results['budget']} slots, "
        f"seeds {results['seeds']}, pools of {results['pool_per_arm']} slots per (task, level).",
        "",
        "| arm | samples per round (mean) | final held-out % | vs static (paired, points) | "
        "samples-to-static's-best ratio | 95% bootstrap interval | censored draws |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arm, group in by_arm.items():
        if not group:
            continue
        curve = mean_curve(group)
        per_round = curve[-1][0] / max(1, len(curve) - 1)
        final = 100 * curve[-1][1]
        if arm == "static" or not static:
            lines.append(f"| {arm} | {per_round:.1f} | {final:.1f} | - | 1 (reference) | - | - |")
            continue
        diff = paired_final_difference(static, group)
        boot = bootstrap_ratio(static, group)
        value = f"< {boot['value']:.2f}" if boot["censored"] else f"{boot['value']:.2f}"
        lines.append(
            f"| {arm} | {per_round:.1f} | {final:.1f} | {100 * diff['mean']:+.1f} ± {100 * diff['sd']:.1f} "
            f"| {value} | {boot['low']:.2f} - {boot['high']:.2f} | {100 * boot['censored_share']:.0f}% |"
        )
    if static:
        lines += ["", "Held-out score per round (mean over seeds, %; samples in brackets):", ""]
        width = min(len(mean_curve(g)) for g in by_arm.values() if g)
        lines.append(
            "| arm | " + " | ".join(f"round {i - 1}" if i else "start" for i in range(width)) + " |"
        )
        lines.append("| --- |" + " --- |" * width)
        for arm, group in by_arm.items():
            if group:
                cells = [f"{100 * s:.1f} ({n:.0f})" for n, s in mean_curve(group)[:width]]
                lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "What each arm asked for, per round (mean over seeds): quota shift from the "
            "previous round (half the L1 distance of task shares, %), accepted samples made "
            "per requested slot, and the three largest task shares:",
            "",
            "| arm | round | shift % | made / slot | largest task shares |",
            "| --- | --- | --- | --- | --- |",
        ]
        for arm, group in by_arm.items():
            for row in quota_rows(group) if group else []:
                top = ", ".join(f"{t} {100 * v:.0f}%" for t, v in row["top"])
                lines.append(
                    f"| {arm} | {row['round']} | {100 * row['shift']:.0f} | "
                    f"{row['made_per_slot']:.2f} | {top} |"
                )
        lines += [
            "",
            "Frontier check: the static arm's per-task held-out score (%) by round; learned "
            "early / late / never: a gain of 10 points over round 0 in the first half of the "
            "later rounds / only in the second half / not at all:",
            "",
        ]
        rows = frontier_table(static)
        lines.append(
            "| task | "
            + " | ".join(f"r{i - 1}" if i else "start" for i in range(len(rows[0]["curve"])))
            + " | learned |"
        )
        lines.append("| --- |" + " --- |" * (len(rows[0]["curve"]) + 1))
        for row in rows:
            lines.append(
                f"| {row['task']} | "
                + " | ".join(f"{100 * v:.0f}" for v in row["curve"])
                + f" | {row['learned']} |"
            )
    return "\n".join(lines) + "\n"
