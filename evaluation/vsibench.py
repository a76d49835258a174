"""VSI-Bench as published (nyu-visionx/VSI-Bench): question rows plus one mp4 per scene.

Rows come from the dataset's Parquet file (or JSON / JSONL in the same columns); videos
sit at `{data_root}/{dataset}/{scene_name}.mp4`, as in the unzipped release and as
lmms-eval's `vsibench_doc_to_visual` expects. The row reader and the prompt are shared
with every benchmark in this row format (ProcSpatial).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from PIL import Image
from pydantic import ValidationError

from common.errors import UserError, field_problem
from evaluation.metrics import MULTIPLE_CHOICE_TASKS, NUMERIC_TASKS, parse_number
from evaluation.records import BenchmarkRow
from evaluation.video import Rounding, VideoClip, read_video_clip

#: lmms-eval's VSI-Bench prompt parts (vsibench.yaml defaults; the empty pre_prompt falls
#: back to the sentence below in `vsibench_doc_to_text`).
PRE_PROMPT = "These are frames of a video."
NUMERIC_POST_PROMPT = "Please answer the question using a single word or phrase."
MULTIPLE_CHOICE_POST_PROMPT = "Answer with the option's letter from the given choices directly."

_ROW_SUFFIXES = (".parquet", ".jsonl", ".json")


def _find_rows_file(folder: Path) -> Path:
    """A dataset folder (as downloaded from the Hub) holds its rows as Parquet or JSONL."""
    for pattern in ("*.parquet", "*.jsonl", "*.json"):
        matches = sorted(folder.glob(pattern))
        if matches:
            return matches[0]
    raise UserError(
        f"{folder}: no rows file (.parquet, .jsonl or .json) in this folder; "
        "pass the file itself or the folder of the downloaded benchmark"
    )


def _read_raw_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        try:
            return pq.read_table(path).to_pylist()
        except Exception as error:  # pyarrow raises several unrelated types
            raise UserError(f"{path}: not a readable Parquet file ({error})") from error
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            raw = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            raw = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise UserError(f"{path}: expected a list of row objects (one per question)")
    return raw


def _option_letters(options: list[str]) -> list[str]:
    return [option.split(".", 1)[0].strip() for option in options]


def _check_answer(row: BenchmarkRow, where: str) -> None:
    """Fail at load time, not after hours of inference, on a ground truth we cannot score."""
    numeric = row.question_type in NUMERIC_TASKS or (
        row.question_type not in MULTIPLE_CHOICE_TASKS and not row.options
    )
    if numeric:
        value = parse_number(row.ground_truth)
        if value is None or not (math.isfinite(value) and value > 0):
            raise UserError(
                f"{where}: ground_truth {row.ground_truth!r} of a numeric question must be a "
                "positive number (mean relative accuracy divides by it)"
            )
        return
    if not row.options:
        raise UserError(
            f"{where}: multiple-choice question_type '{row.question_type}' needs options"
        )
    letters = _option_letters(row.options)
    if row.ground_truth.strip().upper() not in (letter.upper() for letter in letters):
        raise UserError(
            f"{where}: ground_truth {row.ground_truth!r} is not one of the option letters {letters}"
        )


def load_benchmark_rows(path: str | Path) -> list[BenchmarkRow]:
    """Rows in VSI-Bench's format from a .parquet, .jsonl or .json file (or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = _find_rows_file(path)
    if not path.is_file():
        raise UserError(f"{path}: benchmark rows file not found")
    if path.suffix not in _ROW_SUFFIXES:
        raise UserError(f"{path}: unsupported rows file; use one of {', '.join(_ROW_SUFFIXES)}")
    rows = []
    for index, raw in enumerate(_read_raw_rows(path)):
        where = f"{path}: row {index} (id {raw.get('id')!r})"
        try:
            row = BenchmarkRow.model_validate(raw)
        except ValidationError as error:
            raise UserError(f"{where}: {field_problem(error.errors()[0])}") from error
        _check_answer(row, where)
        rows.append(row)
    return rows


def select_rows(
    rows: list[BenchmarkRow],
    limit: int | None = None,
    question_types: list[str] | None = None,
) -> list[BenchmarkRow]:
    """Keep the given question types, then at most `limit` rows taken round-robin across
    question types (each type in file order), so a small run still covers every task."""
    if question_types is not None:
        unknown = sorted(set(question_types) - {row.question_type for row in rows})
        if unknown:
            raise UserError(f"question types not in the benchmark: {', '.join(unknown)}")
        rows = [row for row in rows if row.question_type in question_types]
    if limit is None or limit >= len(rows):
        return list(rows)
    if limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    queues: dict[str, list[BenchmarkRow]] = {}
    for row in rows:
        queues.setdefault(row.question_type, []).append(row)
    chosen: list[BenchmarkRow] = []
    depth = 0
    while len(chosen) < limit:
        for queue in queues.values():
            if depth < len(queue) and len(chosen) < limit:
                chosen.append(queue[depth])
        depth += 1
    return chosen


def build_prompt(row: BenchmarkRow) -> str:
    """lmms-eval's VSI-Bench prompt (`vsibench_doc_to_text` with the default kwargs)."""
    multiple_choice = row.question_type in MULTIPLE_CHOICE_TASKS or (
        row.question_type not in NUMERIC_TASKS and bool(row.options)
    )
    if not multiple_choice:
        return PRE_PROMPT + "\n" + row.question + "\n" + NUMERIC_POST_PROMPT
    options = "Options:\n" + "\n".join(row.options or [])
    return "\n".join([PRE_PROMPT, row.question, options, MULTIPLE_CHOICE_POST_PROMPT])


class VsiBench:
    """VSI-Bench rows with frames decoded from their scene videos on demand."""

    name = "vsibench"

    def __init__(self, rows: list[BenchmarkRow], data_root: str | Path) -> None:
        self.rows = rows
        self.data_root = Path(data_root)
        self._cached_key: tuple[Path, int, str] | None = None
        self._cached_clip: VideoClip | None = None

    @classmethod
    def load(
        cls,
        rows_path: str | Path,
        data_root: str | Path | None = None,
        limit: int | None = None,
        question_types: list[str] | None = None,
    ) -> VsiBench:
        """Read the rows; videos default to the rows file's folder (the release's layout)."""
        rows_path = Path(rows_path)
        rows = select_rows(load_benchmark_rows(rows_path), limit, question_types)
        if data_root is None:
            data_root = rows_path if rows_path.is_dir() else rows_path.parent
        return cls(rows, data_root)

    def video_path(self, row: BenchmarkRow) -> Path:
        return self.data_root / row.dataset / f"{row.scene_name}.mp4"

    def missing_videos(self) -> list[Path]:
        """Videos the rows need that are not on disk, to report before any inference."""
        needed = dict.fromkeys(self.video_path(row) for row in self.rows)
        return [path for path in needed if not path.is_file()]

    def check_videos(self) -> None:
        missing = self.missing_videos()
        if missing:
            shown = ", ".join(str(path) for path in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise UserError(
                f"{len(missing)} video(s) missing under {self.data_root}: {shown}{more}; "
                "videos go at {data_root}/{dataset}/{scene_name}.mp4"
            )

    def frames_for(self, row: BenchmarkRow, count: int) -> list[Image.Image]:
        """`count` uniformly sampled frames of the row's video; the last video is cached."""
        return list(self.clip_for(row, count).frames)

    def clip_for(self, row: BenchmarkRow, count: int, rounding: Rounding = "floor") -> VideoClip:
        """The sampled frames with their positions and the video's frame rate (cached)."""
        key = (self.video_path(row), count, rounding)
        if key != self._cached_key or self._cached_clip is None:
            self._cached_clip = read_video_clip(key[0], count, rounding)
            self._cached_key = key
        return self._cached_clip

    def rows_by_video(self) -> Iterator[list[BenchmarkRow]]:
        """Rows grouped by video (first-appearance order), so each video is decoded once."""
        groups: dict[Path, list[BenchmarkRow]] = {}
        for row in self.rows:
            groups.setdefault(self.video_path(row), []).append(row)
        yield from groups.values()
