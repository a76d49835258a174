"""The ViLaSR drawing solver through the existing evaluator, on VSI-Bench and ProcSpatial inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.solver.backends import load_solver
from agents.solver.config import SolverConfig
from agents.solver.tool_chat import build_tiny_tool_solver
from agents.solver.tool_solver import ToolSolver
from agents.solver.transcript import Transcript
from evaluation.evaluator import evaluate
from evaluation.metrics import parse_reply
from evaluation.procspatial import ProcSpatial
from evaluation.procspatial_build import build_procspatial
from evaluation.vsibench import VsiBench

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tool_solver(tmp_path_factory: pytest.TempPathFactory) -> ToolSolver:
    checkpoint = build_tiny_tool_solver(tmp_path_factory.mktemp("tiny-tool"), frame_size=64)
    config = SolverConfig(model=str(checkpoint), device="cpu", frame_size=64, backend="vilasr")
    solver = load_solver(config)
    assert isinstance(solver, ToolSolver)
    solver.tools.max_turns = 2
    solver.tools.max_new_tokens = 6
    return solver


def check(report: object, solver: ToolSolver, rows: int) -> None:
    predictions = report.predictions  # type: ignore[attr-defined]
    assert len(predictions) == rows == report.result.num_rows  # type: ignore[attr-defined]
    kept = solver.transcripts[-rows:]
    for prediction, transcript in zip(predictions, kept, strict=True):
        assert prediction.id == transcript.sample_id or str(prediction.id) == transcript.sample_id
        assert prediction.answer == parse_reply(prediction.reply)
        assert 1 <= transcript.num_turns <= 2 and transcript.num_frames == 2


def test_vsibench_rows_are_answered_over_turns(
    tool_solver: ToolSolver, vsibench_root: Path, tmp_path: Path
) -> None:
    bench = VsiBench.load(vsibench_root / "test-00000-of-00001.parquet")
    rows = bench.rows[:3]
    bench.rows = rows
    tool_solver.tools.transcripts_dir = str(tmp_path / "transcripts")
    report = evaluate(tool_solver, bench, frames=2, batch_size=2, model="tiny-tool")
    check(report, tool_solver, len(rows))
    saved = sorted((tmp_path / "transcripts").iterdir())
    assert len(saved) == len(rows)
    assert Transcript.load(saved[0]).images[0].size == (64, 64)
    tool_solver.tools.transcripts_dir = None


def test_procspatial_rows_are_answered_over_turns(
    tool_solver: ToolSolver, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = build_procspatial(
        tmp_path_factory.mktemp("procspatial") / "bench",
        size=6,
        num_scenes=1,
        frames=8,
        width=64,
        height=48,
        question_frames=2,
        workers=1,
        progress=False,
    )
    bench = ProcSpatial.load(root, limit=3)
    report = evaluate(tool_solver, bench, frames=2, batch_size=3, model="tiny-tool")
    check(report, tool_solver, len(bench.rows))
