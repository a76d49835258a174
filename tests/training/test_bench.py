"""The training benchmark's CPU path runs end to end on the tiny model."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "train_gpu.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("train_gpu_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_path_reports_every_row(
    bench: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["--tiny", "--device", "cpu", "--scenes", "2", "--questions", "3", "--frames", "4"]
    argv += ["--warmup", "1", "--steps", "1", "--json", str(tmp_path / "r.json")]
    report = bench.main(argv)
    printed = capsys.readouterr().out
    rows = {row["row"].split(" (")[0]: row for row in report["rows"]}
    assert list(rows) == ["plain", "TRL defaults", "tuned, unpacked", "tuned, packed"]
    assert all("error" not in row for row in rows.values())
    assert all(row["row"] in printed for row in report["rows"])
    for row in rows.values():
        assert row["tokens_per_s"] > 0 and row["answers_per_s"] > 0 and 0 < row["mfu"] < 1
    # packing shows the frames once for all 3 questions of a scene
    assert (
        rows["tuned, packed"]["tokens_per_answer"]
        < 0.85 * rows["tuned, unpacked"]["tokens_per_answer"]
    )
    assert json.loads((tmp_path / "r.json").read_text())["anchor"]["tokens_per_s"] == 6850.0
