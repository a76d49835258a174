"""The perception gate's table: margins against the most common answer, pass at 25 points."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location(
        "perception_gate", ROOT / "bench" / "perception_gate.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["perception_gate"] = module
    spec.loader.exec_module(module)
    return module


def test_table_marks_forms_that_clear_the_most_common_answer_by_25_points() -> None:
    bench = _bench()
    record = {
        "steps": 120,
        "check_questions": 30,
        "counts": {"perception_seen_object": 10, "perception_most_visible": 20},
        "majority": {"perception_seen_object": 0.3, "perception_most_visible": 0.4},
        "solvers": {
            "random tiny": {
                "accuracy": {"perception_seen_object": 0.3, "perception_most_visible": 0.4}
            },
            "seeing tiny": {
                "accuracy": {"perception_seen_object": 0.6, "perception_most_visible": 0.5}
            },
        },
    }
    console = Console(width=200, record=True)
    console.print(bench.table(record))
    lines = {
        line.split("│")[1].strip(): line
        for line in console.export_text().splitlines()
        if "│" in line
    }
    assert "+30.0" in lines["seen_object"] and "pass" in lines["seen_object"]
    assert "+10.0" in lines["most_visible"] and "fail" in lines["most_visible"]
    # mean over forms: (60 + 50) / 2 - (30 + 40) / 2 = 20 points
    assert "+20.0" in lines["mean over forms"] and "fail" in lines["mean over forms"]


def test_check_rooms_that_overlap_the_sft_rooms_are_refused(tmp_path: Path) -> None:
    bench = _bench()
    args = bench.parse_args(["--out", str(tmp_path / "gate"), "--check-seed", "500004"])
    with pytest.raises(SystemExit, match=r"overlap the SFT rooms 500000\.\.500007"):
        bench.run(args)
    assert not (tmp_path / "gate").exists()
