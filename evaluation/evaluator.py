"""Run a solver over a benchmark: frames per row, batched greedy answers, VSI-Bench scores.

Any `Benchmark` works (VSI-Bench, ProcSpatial). Rows are answered grouped by scene, so
each video is decoded (or each scene's frames read) once per group, and in batches, so
only one batch's frames are held at a time. The report keeps every prediction next to
the scores, the model id, the benchmark's name, version and fingerprint and the settings,
so a saved JSON says exactly what was measured and can be compared with another.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from agents.records import AnswerKind
from agents.solver.frames import ClipTiming
from agents.solver.items import SolverItem
from common.errors import UserError
from evaluation.metrics import aggregate, answer_kind_of, parsed_answer, score_row
from evaluation.protocols import PROTOCOLS, EvalProtocol
from evaluation.records import Benchmark, BenchmarkRow, EvalResult, EvalRow

if TYPE_CHECKING:
    from agents.solver.solver import SolverBackend

#: Frames per question when neither the user nor the benchmark names a count.
DEFAULT_FRAMES = 16
DEFAULT_BATCH_SIZE = 16


class Prediction(BaseModel):
    """One row's question type, truth, the model's reply and its score."""

    id: int | str
    question_type: str
    level: int | None = None
    answer_kind: AnswerKind
    ground_truth: str
    reply: str = Field(description="The raw generation.")
    answer: str = Field(description="The reply parsed as VSI-Bench parses it.")
    score: float = Field(description="Exact match (0/1) or mean relative accuracy.")


class BenchmarkInfo(BaseModel):
    """Which benchmark a report measured, precisely enough to tell two builds apart."""

    name: str
    version: str | None = None
    fingerprint: str | None = Field(default=None, description="Row-set identity (ProcSpatial).")
    data: str | None = Field(default=None, description="Where the rows were read from.")
    num_rows: int = Field(description="Rows evaluated (after --limit).")


class EvalReport(BaseModel):
    """What `ouroboros eval` saves: scores, predictions and how they were obtained."""

    model: str = Field(description="Checkpoint folder or hub id.")
    benchmark: BenchmarkInfo
    settings: dict[str, Any] = Field(description="Frames, limit, batch size, solver settings.")
    result: EvalResult
    predictions: list[Prediction]
    started_at: str
    duration_s: float

    @property
    def label(self) -> str:
        """A short name for tables and legends: the model's last two path parts
        (`runs/iter-3/checkpoint` -> `iter-3/checkpoint`; a hub id stays whole)."""
        parts = [part for part in self.model.split("/") if part]
        return "/".join(parts[-2:]) or "model"


def resolve_frames(bench: Benchmark, requested: int | None) -> int:
    """The frame count to use: the request, else the benchmark's own, else 16.

    A benchmark whose rows fix their frames (ProcSpatial: ground truths were computed on
    them) refuses a different count instead of silently ignoring it."""
    own = getattr(bench, "default_frames", None)
    if requested is None:
        return int(own) if own else DEFAULT_FRAMES
    if requested < 1:
        raise UserError(f"--frames must be at least 1, got {requested}")
    if own and getattr(bench, "fixed_frames", False) and requested != own:
        raise UserError(
            f"{bench.name} was built with {own} frames per question and its ground truths hold "
            f"for exactly those frames; drop --frames, or rebuild it with --question-frames "
            f"{requested}"
        )
    return requested


def eval_row(row: BenchmarkRow, prediction: str | None) -> EvalRow:
    return EvalRow.model_validate({**row.model_dump(), "prediction": prediction})


def _scene_order(rows: Sequence[BenchmarkRow]) -> list[int]:
    """Row positions grouped by scene (first-appearance order), file order within a scene."""
    groups: dict[tuple[str, str], list[int]] = {}
    for position, row in enumerate(rows):
        groups.setdefault((row.dataset, row.scene_name), []).append(position)
    return [position for group in groups.values() for position in group]


def _batches(order: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(order), size):
        yield order[start : start + size]


def _item(
    bench: Benchmark, row: BenchmarkRow, frames: int, kind: AnswerKind, protocol: EvalProtocol
) -> SolverItem:
    """The row's question with its frames; as a video clip with its timing when the
    protocol shows a video and the benchmark has one (VSI-Bench's mp4s)."""
    clip_for = getattr(bench, "clip_for", None)
    timing = None
    if protocol.frame_input == "video" and clip_for is not None:
        clip = clip_for(row, frames, protocol.rounding)
        images = clip.frames
        timing = ClipTiming(positions=clip.positions, fps=clip.fps, total_frames=clip.total_frames)
    else:
        images = bench.frames_for(row, frames)
    key = f"{bench.name}:{row.dataset}/{row.scene_name}#{frames}:{protocol.rounding}"
    named = (row.model_extra or {}).get("frame_indices")
    if named:
        key += ":" + ",".join(str(index) for index in named)
    return SolverItem.from_images(
        question=row.question,
        images=images,
        answer_kind=kind,
        options=row.options,
        ground_truth=row.ground_truth,
        sample_id=str(row.id),
        frames_key=key,
        clip=timing,
    )


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=console is None,
    )


def evaluate(
    solver: SolverBackend,
    bench: Benchmark,
    *,
    frames: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    model: str = "",
    settings: dict[str, Any] | None = None,
    data: str | None = None,
    console: Console | None = None,
    protocol: EvalProtocol | None = None,
) -> EvalReport:
    """Answer every row of `bench` with `solver` and score the replies.

    `frames` defaults to the benchmark's own count (16 for VSI-Bench); `console` shows a
    progress bar there (None: silent, as the loop runs it); `settings` are recorded as is.
    `protocol` picks frame rounding, video clips and the number parse (default: `project`,
    the loop's); the solver must already show frames the protocol's way (`frame_input`).
    """
    protocol = protocol or PROTOCOLS["project"]
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    if not bench.rows:
        raise UserError(f"{bench.name}: no rows to evaluate (check --limit and the data path)")
    count = resolve_frames(bench, frames)
    rows = bench.rows
    kinds = [answer_kind_of(eval_row(row, None)) for row in rows]
    replies: list[str | None] = [None] * len(rows)
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    with _progress(console) as progress:
        task = progress.add_task(f"{bench.name}: answering", total=len(rows))
        for batch in _batches(_scene_order(rows), batch_size):
            items = [_item(bench, rows[i], count, kinds[i], protocol) for i in batch]
            for position, result in zip(batch, solver.answer(items), strict=True):
                replies[position] = result.reply
            progress.advance(task, len(batch))
    scored = [eval_row(row, reply) for row, reply in zip(rows, replies, strict=True)]
    predictions = [
        Prediction(
            id=row.id,
            question_type=row.question_type,
            level=scored_row.level,
            answer_kind=kind,
            ground_truth=row.ground_truth,
            reply=reply or "",
            answer=parsed_answer(scored_row, protocol.numbers),
            score=score_row(scored_row, protocol.numbers),
        )
        for row, scored_row, kind, reply in zip(rows, scored, kinds, replies, strict=True)
    ]
    return EvalReport(
        model=model,
        benchmark=BenchmarkInfo(
            name=bench.name,
            version=getattr(bench, "version", None),
            fingerprint=getattr(bench, "fingerprint", None),
            data=data,
            num_rows=len(rows),
        ),
        settings={
            "frames": count,
            "batch_size": batch_size,
            "protocol": protocol.name,
            "number_parse": protocol.numbers,
            **(settings or {}),
        },
        result=aggregate(scored, protocol.numbers),
        predictions=predictions,
        started_at=started.isoformat(timespec="seconds"),
        duration_s=round(time.perf_counter() - clock, 3),
    )
