"""The frontier check: its table on hand-made curves, and the `ci` size end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bench.test_loop_efficiency_pools import load, run_ci_size


def point(samples: int, tasks: dict[str, float]) -> dict[str, Any]:
    return {
        "samples": samples,
        "overall": sum(tasks.values()) / len(tasks),
        "tasks": tasks,
        "counts": dict.fromkeys(tasks, 40),
        "majority": {"early": 0.25},
        "top_answer": {"late": 1.0},
    }


def test_table_classifies_over_the_first_trained_checkpoint() -> None:
    frontier = load("frontier")
    curves = {  # checkpoints 0, 128, 1k, 2k, 4k, 8k
        "early": [0.0, 0.2, 0.35, 0.4, 0.4, 0.45],
        "late": [0.1, 0.2, 0.2, 0.22, 0.25, 0.4],
        "formats_only": [0.0, 0.3, 0.3, 0.32, 0.3, 0.31],
    }
    samples = [0, 130, 1001, 2003, 4000, 8002]
    runs = [
        {"points": [point(n, {t: c[i] for t, c in curves.items()}) for i, n in enumerate(samples)]}
    ]
    header, body, _ = frontier.table({"config": {"gain": 0.10}, "runs": runs})
    assert header[3:-2] == [f"{n} samples" for n in samples]
    learned = {row[0]: row[-2] for row in body}
    assert learned == {"early": "early", "late": "late", "formats_only": "never", "overall": ""}
    assert body[-1][1] == "120", "the overall row counts every question"
    assert [row[2] for row in body] == ["25", "-", "-", ""], "the prior only where it is known"
    assert [row[-1] for row in body] == ["-", "-", "100", ""]  # sorted: early, formats, late


@pytest.mark.slow
def test_the_ci_size_trains_the_static_arm_to_each_checkpoint(tmp_path: Path) -> None:
    frontier = load("frontier")
    out = tmp_path / "frontier"
    assert "Frontier check" in run_ci_size("frontier", out)
    results = json.loads((out / "results.json").read_text())
    (run,) = results["runs"]
    reached = [p["samples"] for p in run["points"]]
    assert reached[0] == 0 and reached[1] >= 8 and reached[2] >= 16, reached
    assert sum(r["samples"] for r in run["rounds"]) == reached[-1]
    trained = sorted((out / "runs" / "static-seed0" / "train" / "sft").glob("iteration-*"))
    assert len(trained) == sum(1 for r in run["rounds"] if r["samples"])
    assert all(set(p["tasks"]) == set(run["points"][0]["tasks"]) for p in run["points"])
    assert (out / "frontier.png").stat().st_size > 0
    table = (out / "tables.md").read_text()
    assert any(row.startswith("| overall |") for row in table.splitlines())
    (out / "tables.md").unlink()
    frontier.main(["--size", "ci", "--out", str(out), "--report"])
    assert (out / "tables.md").read_text() == table, "the evaluations alone rebuild the table"
