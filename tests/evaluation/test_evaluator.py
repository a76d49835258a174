"""The evaluator on the VSI-Bench-format fixture: exact scores from scripted solvers, the
frames each question gets, batching by scene, and the tiny solver end to end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image

from agents.solver.backends import load_solver
from agents.solver.config import SolverConfig
from agents.solver.items import AnswerResult, ConfidenceResult, SolverItem
from agents.solver.tiny import build_tiny_solver
from common.errors import UserError
from evaluation.evaluator import DEFAULT_FRAMES, evaluate, resolve_frames
from evaluation.metrics import aggregate, score_row
from evaluation.protocols import PROTOCOLS
from evaluation.records import BenchmarkRow, EvalRow
from evaluation.report import load_report, save_report
from evaluation.video import uniform_frame_indices
from evaluation.vsibench import VsiBench

#: scene -> (frame count, grey step), as tests/evaluation/conftest.py writes the videos
VIDEO_FRAMES = {"scene0000_00": (40, 6), "41069025": (24, 10)}


class ScriptedSolver:
    """Replies with `reply(item)` and records every batch it was given."""

    def __init__(self, reply: Callable[[SolverItem], str]) -> None:
        self.reply = reply
        self.batches: list[list[SolverItem]] = []

    def answer(self, items: Sequence[SolverItem], blind: bool = False) -> list[AnswerResult]:
        self.batches.append(list(items))
        return [
            AnswerResult(sample_id=item.sample_id, reply=self.reply(item), answer="")
            for item in items
        ]

    def confidence(
        self, items: Sequence[SolverItem], blind: bool = False
    ) -> list[ConfidenceResult]:
        raise AssertionError("evaluation never scores confidence")


@pytest.fixture
def bench(vsibench_root: Path) -> VsiBench:
    return VsiBench.load(vsibench_root / "test-00000-of-00001.parquet")


def test_an_oracle_scores_one_everywhere(bench: VsiBench) -> None:
    report = evaluate(ScriptedSolver(lambda item: f"{item.ground_truth}."), bench, frames=4)
    result = report.result
    assert result.overall == 1.0 and result.overall_complete
    assert all(task.score == 1.0 for task in result.tasks.values())
    assert [p.id for p in report.predictions] == [row.id for row in bench.rows]
    assert all(p.score == 1.0 and p.reply.endswith(".") for p in report.predictions)


def test_always_answering_a_scores_as_computed_by_hand(bench: VsiBench) -> None:
    report = evaluate(ScriptedSolver(lambda item: "A"), bench, frames=4)
    tasks = report.result.tasks
    # multiple choice ground truths: rel_distance B, direction A/C/D, route A, appearance B
    assert tasks["object_rel_distance"].score == 0.0
    assert tasks["object_rel_direction"].score == pytest.approx(1 / 3)
    assert tasks["route_planning"].score == 1.0
    assert tasks["obj_appearance_order"].score == 0.0
    for numeric in ("object_counting", "object_abs_distance", "room_size_estimation"):
        assert tasks[numeric].score == 0.0 and tasks[numeric].unparsable == tasks[numeric].count
    assert report.result.overall == pytest.approx((1 / 3 + 1) / 8)


def test_numeric_replies_score_by_mean_relative_accuracy(bench: VsiBench) -> None:
    def reply(item: SolverItem) -> str:
        if item.answer_kind == "numeric":
            return f"{float(item.ground_truth or 0) * 1.22} meters"  # 22% off: 6 of 10
        return "A"

    report = evaluate(ScriptedSolver(reply), bench, frames=4)
    assert report.result.tasks["object_abs_distance"].score == pytest.approx(0.6)
    assert report.result.tasks["object_counting"].score == pytest.approx(0.6)


def test_each_question_sees_uniform_frames_of_its_own_video(
    bench: VsiBench, frame_number: Callable[[Image.Image, int], int]
) -> None:
    solver = ScriptedSolver(lambda item: "A")
    evaluate(solver, bench, frames=8, batch_size=3)
    rows = {str(row.id): row for row in bench.rows}
    for batch in solver.batches:
        assert len(batch) <= 3
        for item in batch:
            total, step = VIDEO_FRAMES[rows[item.sample_id or ""].scene_name]
            shown = [frame_number(image, step) for image in item.images or []]
            assert shown == uniform_frame_indices(total, 8)
    seen = [rows[item.sample_id or ""].scene_name for batch in solver.batches for item in batch]
    assert seen == sorted(seen, key=seen.index)  # grouped by scene: each video once in a row


def test_the_paper_protocol_sends_clips_with_their_timing(
    bench: VsiBench, frame_number: Callable[[Image.Image, int], int]
) -> None:
    """Video protocols: positions rounded as qwen-vl-utils rounds them, each item carrying
    where its frames sit in the video and its frame rate; numbers read as the protocol says."""
    solver = ScriptedSolver(lambda item: "about 3" if item.answer_kind == "numeric" else "A")
    paper = evaluate(solver, bench, frames=8, protocol=PROTOCOLS["paper"])
    rows = {str(row.id): row for row in bench.rows}
    for batch in solver.batches:
        for item in batch:
            total, step = VIDEO_FRAMES[rows[item.sample_id or ""].scene_name]
            wanted = uniform_frame_indices(total, 8, "round")
            assert [frame_number(image, step) for image in item.images or []] == wanted
            assert item.clip is not None and item.clip.positions == wanted
            assert item.clip.total_frames == total and item.clip.fps == 24.0
    lmms = evaluate(solver, bench, frames=8, protocol=PROTOCOLS["lmms-eval"])
    counting = [p for p in paper.predictions if p.question_type == "object_counting"]
    assert counting and all(p.score == 0.0 and p.answer == "about" for p in counting)
    counted = [p for p in lmms.predictions if p.question_type == "object_counting"]
    assert all(p.answer == "3.0" for p in counted)
    assert lmms.result.tasks["object_counting"].score > 0
    assert lmms.settings["number_parse"] == "first_number"


def test_report_saves_and_loads_unchanged(bench: VsiBench, tmp_path: Path) -> None:
    report = evaluate(ScriptedSolver(lambda item: "B"), bench, model="org/model", settings={"x": 1})
    path = save_report(report, tmp_path / "results.json")
    again = load_report(path)
    assert again == report and load_report(tmp_path) == report
    assert again.settings == {
        "frames": DEFAULT_FRAMES,
        "batch_size": 16,
        "protocol": "project",
        "number_parse": "first_token",
        "x": 1,
    }
    assert again.benchmark.name == "vsibench" and again.label == "org/model"


def test_bad_results_files_are_refused_with_the_field(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"model": "m"}')
    with pytest.raises(UserError, match="field 'benchmark'"):
        load_report(path)
    with pytest.raises(UserError, match="no such results file"):
        load_report(tmp_path / "missing.json")


class FixedFramesBench:
    """A benchmark whose rows fix their frames (like ProcSpatial)."""

    name = "fixed"
    default_frames = 8
    fixed_frames = True

    def __init__(self) -> None:
        self.rows: list[BenchmarkRow] = []

    def frames_for(self, row: BenchmarkRow, count: int) -> list[Image.Image]:
        raise AssertionError("not called")


def test_frame_counts_default_to_the_benchmark_and_fixed_ones_are_kept(bench: VsiBench) -> None:
    assert resolve_frames(bench, None) == DEFAULT_FRAMES
    assert resolve_frames(bench, 4) == 4
    fixed = FixedFramesBench()
    assert resolve_frames(fixed, None) == 8 and resolve_frames(fixed, 8) == 8
    with pytest.raises(UserError, match="built with 8 frames"):
        resolve_frames(fixed, 16)
    with pytest.raises(UserError, match="no rows"):
        evaluate(ScriptedSolver(lambda item: "A"), fixed)


def test_tiny_solver_runs_on_the_vsibench_fixture(bench: VsiBench, tmp_path: Path) -> None:
    checkpoint = build_tiny_solver(tmp_path / "tiny")
    config = SolverConfig(model=str(checkpoint), device="cpu", frame_size=64, max_new_tokens=4)
    report = evaluate(load_solver(config), bench, frames=4, batch_size=4, model=str(checkpoint))
    assert len(report.predictions) == len(bench.rows) == report.result.num_rows
    rescored = [
        EvalRow.model_validate({**row.model_dump(), "prediction": p.reply})
        for row, p in zip(bench.rows, report.predictions, strict=True)
    ]
    assert [score_row(row) for row in rescored] == [p.score for p in report.predictions]
    assert report.result == aggregate(rescored)
    assert report.result.overall_complete and report.duration_s > 0
