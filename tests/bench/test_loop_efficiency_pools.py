"""The pooled experiment: its statistics on hand-made curves, and the `ci` size end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_ci_size(script: str, out: Path) -> str:
    """Run `bench/<script>.py --size ci` in a fresh process; its stdout (fails on an error)."""
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{script}.py"), "--size", "ci", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def stats() -> ModuleType:
    return load("loop_efficiency_stats")


def run(arm: str, seed: int, scores: list[float], per_round: int = 10) -> dict[str, Any]:
    rounds = [
        {"samples": per_round * i, "overall": s, "tasks": {"a": s, "b": 0.1}}
        for i, s in enumerate(scores)
    ]
    return {"arm": arm, "seed": seed, "rounds": rounds}


def test_ratio_targets_statics_best_trained_score(stats: ModuleType) -> None:
    static = [(0, 0.5), (10, 0.2), (20, 0.3), (30, 0.4)]  # the start is not a target
    fast = [(0, 0.5), (10, 0.4), (20, 0.4), (30, 0.4)]
    assert stats.ratio(static, fast) == {"value": 3.0, "censored": False, "target": 0.4}
    never = [(0, 0.5), (10, 0.1), (20, 0.1), (30, 0.2)]
    assert stats.ratio(static, never) == {"value": 1.0, "censored": True, "target": 0.4}


def test_bootstrap_interval_is_paired_over_seeds(stats: ModuleType) -> None:
    static = [run("static", s, [0.2, 0.2, 0.25, 0.3 + 0.01 * s]) for s in range(5)]
    faster = [run("x", s, [0.2, 0.2, 0.3 + 0.01 * s, 0.3 + 0.01 * s]) for s in range(5)]
    result = stats.bootstrap_ratio(static, faster, draws=200)
    assert result["value"] == pytest.approx(1.5) and result["seeds"] == 5
    assert result["low"] <= result["value"] <= result["high"]
    same = stats.bootstrap_ratio(static, static, draws=50)
    assert (same["low"], same["value"], same["high"]) == (1.0, 1.0, 1.0)
    diff = stats.paired_final_difference(static, faster)
    assert diff["mean"] == pytest.approx(0.0) and diff["sd"] == pytest.approx(0.0)


def test_frontier_table_sorts_tasks_into_early_late_never(stats: ModuleType) -> None:
    runs = []
    for seed in range(2):
        record = run("static", seed, [0.2] * 6)
        for i, rnd in enumerate(record["rounds"]):  # start, round 0 (the baseline), rounds 1-4
            rnd["tasks"] = {
                "early": 0.1 + 0.1 * i,
                "late": 0.1 if i < 4 else 0.3,
                "never": 0.0 if i == 0 else 0.3,  # a jump in round 0 only: formats, not skill
            }
        runs.append(record)
    learned = {row["task"]: row["learned"] for row in stats.frontier_table(runs)}
    assert learned == {"early": "early", "late": "late", "never": "never"}


@pytest.mark.slow
def test_the_ci_size_runs_every_arm_from_shared_pools(tmp_path: Path) -> None:
    out = tmp_path / "pools"
    assert "Frontier check" in run_ci_size("loop_efficiency_pools", out)
    results = json.loads((out / "results.json").read_text())
    script = load("loop_efficiency_pools")
    assert {r["arm"] for r in results["runs"]} == set(script.ARMS)
    firsts = {json.dumps(r["rounds"][1]) for r in results["runs"]}
    assert len(firsts) == 1, "round 0 is the same uniform draw in every arm of a seed"
    pool_ids = {s["sample_id"] for s in _pool(out)}
    assert pool_ids, "the pool holds accepted samples"
    for record in results["runs"]:
        samples = [r["samples"] for r in record["rounds"]]
        assert samples == sorted(samples) and samples[0] == 0
        for rnd in record["rounds"][2:]:
            assert sum(row[2] for row in rnd["quotas"]) == results["budget"]
            assert all(row[3] <= row[2] for row in rnd["quotas"])
    assert (out / "tables.md").read_text().count("| static |") >= 2
    assert results["solver"] == "tiny-seeing", "arms start from the preset's seeing solver"
    initial = json.loads((out / "warmup" / "initial" / "config.json").read_text())
    assert initial["vision_config"]["hidden_size"] == 48  # the shipped seeing tower's width


def test_the_frontier_size_trains_one_pass_per_round() -> None:
    script = load("loop_efficiency_pools")
    frontier, cpu = script.SIZES["frontier"], script.SIZES["cpu"]
    assert script.round_steps(frontier, 497, 4) == 125 and script.round_steps(frontier, 1, 4) == 1
    assert script.round_steps(cpu, 497, 4) is None  # the config's fixed steps_per_iteration
    assert frontier.pool_per_arm * 90 >= frontier.rounds * frontier.budget  # the pool suffices


def _pool(out: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(out / "pool.parquet").to_pylist()
