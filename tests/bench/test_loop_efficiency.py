"""The loop-efficiency experiment: its rules on synthetic curves, its configs, and a small
end-to-end run of the script (three arms, one seed, one budget, a few steps)."""

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
    """A bench module by file (bench/ is a folder of scripts, not a package)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def analysis() -> ModuleType:
    return load("loop_efficiency_analysis")


def curve(scores: list[float], per_iteration: float = 10.0) -> list[dict[str, Any]]:
    return [
        {"iteration": i, "accepted": per_iteration * (i + 1), "overall": {"mean": score}}
        for i, score in enumerate(scores)
    ]


def test_budgets_are_the_doubling_points(analysis: ModuleType) -> None:
    assert analysis.budget_iterations(1) == [0]
    assert analysis.budget_iterations(8) == [0, 1, 3, 7]
    assert analysis.budget_iterations(10) == [0, 1, 3, 7]


def test_headline_ratio_when_the_challenger_gets_there_first(analysis: ModuleType) -> None:
    static = curve([0.2, 0.3, 0.4, 0.4])
    feedback = curve([0.3, 0.45, 0.45, 0.5])
    result = analysis.headline(static, feedback)
    assert result["reference_best"] == 0.4
    assert result["reference_samples"] == 30  # static's first point at its best
    assert result["challenger_samples"] == 20
    assert result["ratio"] == pytest.approx(1.5)


def test_headline_reports_not_reached_with_a_bound(analysis: ModuleType) -> None:
    static = curve([0.2, 0.3, 0.4, 0.35])
    feedback = curve([0.1, 0.2, 0.3, 0.39])
    result = analysis.headline(static, feedback)
    assert result["ratio"] is None
    assert result["upper_bound"] == pytest.approx(30 / 40)
    assert result["verdict"].startswith("not reached within 40 samples")


def test_shift_is_zero_for_the_same_mix_and_one_for_disjoint(analysis: ModuleType) -> None:
    assert analysis.total_variation({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0
    assert analysis.total_variation({"a": 1.0}, {"b": 1.0}) == 1
    assert analysis.total_variation({"a": 0.75, "b": 0.25}, {"a": 0.25, "b": 0.75}) == 0.5


def test_every_size_gives_valid_loop_configs() -> None:
    from graphs.config import load_config
    from graphs.runtime import check_settings

    script = load("loop_efficiency")
    for size in script.SIZES.values():
        size.warmup.check()
        for arm in size.arms:
            cfg = load_config(size.preset, overrides=script.arm_overrides(size, arm, 1, "/ckpt"))
            check_settings(cfg)
            assert cfg.loop.selection == script.SELECTION[arm]
            assert cfg.loop.iterations == size.iterations
            assert cfg.seed == 1 and cfg.solver.model == "/ckpt"


@pytest.mark.slow
def test_the_small_configuration_writes_table_plot_and_results(tmp_path: Path) -> None:
    out = tmp_path / "experiment"
    done = subprocess.run(
        [sys.executable, str(BENCH / "loop_efficiency.py"), "--size", "ci", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Held-out ProcSpatial by arm and budget" in done.stdout
    assert "Headline" in done.stdout

    results = json.loads((out / "results.json").read_text())
    assert {(r["arm"], r["seed"]) for r in results["runs"]} == {
        ("static", 0),
        ("feedback", 0),
        ("band", 0),
    }
    warmup = results["warmup"]
    assert warmup["samples"] > 0 and warmup["steps"] == 2
    assert 0 <= warmup["before"]["overall"] <= 1 and 0 <= warmup["after"]["overall"] <= 1
    assert set(warmup["perception_check"]["after"]) == set(warmup["forms"])
    summary = results["summary"]
    assert summary["budget_iterations"] == [0]
    for arm, rows in summary["table"].items():
        (row,) = rows
        assert row["proposed"] >= row["accepted"] >= row["trained_on"] >= 0
        assert 0 <= row["overall"]["mean"] <= 1 and row["overall"]["sd"] == 0
        assert row["tasks"], "per task type scores"
        assert (row["vs_static"] is None) == (arm == "static")
    assert summary["table"]["static"][0]["trained_on"] == summary["table"]["static"][0]["accepted"]
    assert set(summary["headline"]) == {"feedback", "band", "band (trained-on axis)"}
    for arm, rounds in summary["rounds"].items():
        (first,) = rounds
        assert sum(first["histogram"]) > 0
        assert sum(first["task_share"].values()) == pytest.approx(1)
        assert first["shift"]["task"] == pytest.approx(0), f"{arm}: round 0 has no feedback yet"

    png = (out / "plot.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) < 200_000
    assert "| arm | iterations |" in (out / "tables.md").read_text()
