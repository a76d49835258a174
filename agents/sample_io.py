"""Samples on disk: one Parquet file per set, written atomically, readable by `datasets`.

Rows are `Sample.to_row()` (proposal fields inline, nested values as JSON strings) under a
fixed Arrow schema, so a column of nulls still has its type and
`datasets.load_dataset("parquet", data_files=path)` loads every file the same way (an
empty file keeps its columns too, though `datasets` refuses splits without rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from agents.records import Sample
from common.errors import UserError
from common.io import atomic_write_bytes
from tools.sandbox.base import utf8_text

SAMPLE_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("scene_id", pa.string()),
        ("question_type", pa.string()),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),
        ("answer_kind", pa.string()),
        ("ground_truth", pa.string()),
        ("program", pa.string()),
        ("level", pa.int64()),
        ("difficulty", pa.string()),
        ("frame_indices", pa.string()),
        ("referenced_instances", pa.string()),
        ("proposer_id", pa.string()),
        ("stated_answer", pa.string()),
        ("template_id", pa.string()),
        ("iteration", pa.int64()),
        ("executed_value", pa.string()),
        ("execution_error", pa.string()),
        ("verdict", pa.string()),
        ("reason", pa.string()),
        ("confidence", pa.float64()),
        ("letter_probs", pa.string()),
        ("learnability", pa.float64()),
    ]
)


def samples_table(samples: Iterable[Sample]) -> pa.Table:
    rows = [_utf8_row(sample.to_row()) for sample in samples]
    columns = {name: [row.get(name) for row in rows] for name in SAMPLE_SCHEMA.names}
    return pa.Table.from_pydict(columns, schema=SAMPLE_SCHEMA)


def _utf8_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every string UTF-8 can carry: text from programs and LLMs (exception messages,
    questions, options) may hold lone surrogates, which Parquet's writer refuses."""
    clean: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, str):
            value = utf8_text(value)
        elif isinstance(value, list):
            value = [utf8_text(v) if isinstance(v, str) else v for v in value]
        clean[name] = value
    return clean


def write_samples(samples: Iterable[Sample], path: str | Path) -> Path:
    """Write samples to a Parquet file atomically (a reader never sees half a file)."""
    path = Path(path)
    if path.suffix != ".parquet":
        raise UserError(f"{path}: samples are written as Parquet; name the file *.parquet")
    sink = pa.BufferOutputStream()
    pq.write_table(samples_table(samples), sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


def read_samples(path: str | Path) -> list[Sample]:
    """Samples from a file written by `write_samples` (or any file with its columns)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such samples file (write one with 'ouroboros propose')")
    table = pq.read_table(path)
    missing = {"sample_id", "scene_id", "question_type", "question", "program"} - set(
        table.column_names
    )
    if missing:
        raise UserError(f"{path}: not a samples file; missing columns {sorted(missing)}")
    return [Sample.from_row(row) for row in table.to_pylist()]
