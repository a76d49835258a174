"""Reports: per-level scores, the results and comparison tables, warnings, and the charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from rich.console import Console

from evaluation.charts import plot_comparison, plot_report
from evaluation.evaluator import BenchmarkInfo, EvalReport, Prediction
from evaluation.metrics import aggregate, score_row
from evaluation.records import EvalRow
from evaluation.report import (
    compare_table,
    comparison_warnings,
    level_scores,
    results_table,
)


def _row(question_type: str, truth: str, reply: str, level: int, kind: str) -> dict[str, Any]:
    options = ["A. x", "B. y", "C. z"] if kind == "multiple_choice" else None
    return {
        "question_type": question_type,
        "ground_truth": truth,
        "prediction": reply,
        "level": level,
        "answer_kind": kind,
        "options": options,
    }


ROWS = [
    _row("object_counting", "10", "10", 4, "numeric"),
    _row("object_counting", "10", "12", 5, "numeric"),  # error 0.2: 0.6
    _row("object_rel_direction_easy", "A", "A", 1, "multiple_choice"),
    _row("object_rel_direction_easy", "A", "B", 2, "multiple_choice"),
    _row("object_rel_direction_hard", "B", "B", 1, "multiple_choice"),
    _row("camera_rotation", "C", "C", 3, "multiple_choice"),
    _row("camera_rotation", "C", "nonsense", 3, "multiple_choice"),
]


def make_report(rows: list[dict[str, Any]], model: str, fingerprint: str = "f1") -> EvalReport:
    scored = [EvalRow.model_validate({**row, "id": i}) for i, row in enumerate(rows)]
    return EvalReport(
        model=model,
        benchmark=BenchmarkInfo(
            name="procspatial", version="1", fingerprint=fingerprint, num_rows=len(rows)
        ),
        settings={"frames": 16},
        result=aggregate(scored),
        predictions=[
            Prediction(
                id=i,
                question_type=row.question_type,
                level=row.level,
                answer_kind=row.answer_kind or "numeric",
                ground_truth=row.ground_truth,
                reply=row.prediction or "",
                answer=row.prediction or "",
                score=score_row(row),
            )
            for i, row in enumerate(scored)
        ],
        started_at="2025-01-01T00:00:00+00:00",
        duration_s=1.0,
    )


def _text(table: object, width: int = 120) -> str:
    console = Console(width=width, record=True)
    console.print(table)
    return console.export_text()


def test_level_scores_follow_the_task_scores() -> None:
    levels = level_scores(make_report(ROWS, "m"))
    assert levels["object_counting"] == {4: 1.0, 5: pytest.approx(0.6)}
    # direction: mean over its easy/hard parts at each level (hard has only level 1)
    assert levels["object_rel_direction"] == {1: 1.0, 2: 0.0}
    assert levels["camera_rotation"] == {3: 0.5}


def test_results_table_lists_tasks_levels_and_a_partial_overall() -> None:
    text = _text(results_table(make_report(ROWS, "runs/iter-2/checkpoint")))
    assert "iter-2/checkpoint on procspatial v1: 7 questions, 16 frames" in text
    assert "overall (VSI-Bench, partial)" in text and "overall (all tasks)" in text
    counting = next(
        line for line in text.splitlines() if line.strip().startswith("object_counting")
    )
    assert counting.split() == ["object_counting", "2", "80.0", "-", "-", "-", "100.0", "60.0", "0"]
    rotation = next(line for line in text.splitlines() if "camera_rotation" in line)
    assert rotation.split()[-1] == "1"  # one reply had no option letter
    assert "easy" in text and "hard" in text


def test_comparison_shows_deltas_and_warns_about_other_builds() -> None:
    better = [dict(row, prediction=row["ground_truth"]) for row in ROWS]
    a, b = make_report(ROWS, "iter-0/ckpt"), make_report(better, "iter-3/ckpt", fingerprint="f2")
    text = _text(compare_table(a, b))
    rotation = next(line for line in text.splitlines() if "camera_rotation" in line)
    assert rotation.split() == ["camera_rotation", "50.0", "100.0", "+50.0"]
    assert "iter-3/ckpt vs iter-0/ckpt" in text
    assert comparison_warnings(a, b) == ["different builds of procspatial: v1 f1 vs v1 f2"]
    assert comparison_warnings(a, a) == []
    paper = a.model_copy(update={"settings": {"frames": 16, "protocol": "paper"}})
    project = a.model_copy(
        update={"settings": {"frames": 16, "protocol": "project", "frame_size": 64}}
    )
    assert comparison_warnings(paper, project) == [
        "different protocols: paper vs project",
        "different frame sizes: None vs 64",
    ]
    assert "16 frames, protocol paper" in _text(results_table(paper))


def test_charts_are_written_and_sized_by_the_number_of_tasks(tmp_path: Path) -> None:
    report = make_report(ROWS, "m")
    chart = plot_report(report, tmp_path / "scores.png")
    with Image.open(chart) as image:
        width, height = image.size
    assert width > 1000 and 300 < height < 1000  # 3 tasks + 2 overall bars
    many = make_report(
        ROWS * 3 + [_row(f"task_{i}", "1", "1", 1, "numeric") for i in range(12)], "m"
    )
    with Image.open(plot_report(many, tmp_path / "many.png")) as image:
        assert image.size[1] > height + 400
    compared = plot_comparison(report, many, tmp_path / "compare.png")
    with Image.open(compared) as image:
        assert image.size[0] > 1000
