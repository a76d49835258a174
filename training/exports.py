"""Accepted samples for other trainers and evaluators: VSI-Bench rows and ShareGPT JSON.

- VSI-Bench row format (`id, dataset, scene_name, question_type, question, ground_truth,
  options`), as Parquet, JSONL or JSON; `evaluation.vsibench.load_benchmark_rows` reads it.
- LLaMA-Factory's ShareGPT format for multimodal data: `messages` (user turn with one
  `<image>` per frame, then the solver's prompt; assistant turn is the ground truth) and
  `images` (frame file paths), plus a `dataset_info.json` entry that registers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from agents.records import Sample
from agents.solver.prompts import render_question
from common.errors import UserError
from common.io import atomic_write_bytes, atomic_write_text
from evaluation.records import BenchmarkRow
from training.data import SceneSource, select_samples, training_samples

IMAGE_PLACEHOLDER = "<image>"
VSIBENCH_COLUMNS: tuple[str, ...] = (
    "id",
    "dataset",
    "scene_name",
    "question_type",
    "question",
    "ground_truth",
    "options",
)


def vsibench_rows(samples: Iterable[Sample], dataset: str = "ouroboros") -> list[BenchmarkRow]:
    """Accepted samples as VSI-Bench rows; `dataset` names the video folder (scene source)."""
    rows = []
    for sample in select_samples(samples, only_accepted=True):
        proposal = sample.proposal
        rows.append(
            BenchmarkRow(
                id=sample.sample_id,
                dataset=dataset,
                scene_name=proposal.scene_id,
                question_type=proposal.question_type,
                question=proposal.question,
                ground_truth=str(sample.ground_truth).strip(),
                options=list(proposal.options)
                if proposal.answer_kind == "multiple_choice"
                else None,
            )
        )
    return rows


def write_vsibench_rows(
    samples: Iterable[Sample], path: str | Path, dataset: str = "ouroboros"
) -> Path:
    """Write VSI-Bench rows as .parquet, .jsonl or .json (chosen by the suffix)."""
    path = Path(path)
    rows = [
        row.model_dump(include=set(VSIBENCH_COLUMNS)) for row in vsibench_rows(samples, dataset)
    ]
    if not rows:
        raise UserError("no accepted samples with a ground truth to export")
    if path.suffix == ".parquet":
        table = pa.Table.from_pylist(rows)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        atomic_write_bytes(path, sink.getvalue().to_pybytes())
    elif path.suffix == ".jsonl":
        atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))
    elif path.suffix == ".json":
        atomic_write_text(path, json.dumps(rows, indent=1) + "\n")
    else:
        raise UserError(f"{path}: name the file .parquet, .jsonl or .json")
    return path


def sharegpt_records(
    samples: Iterable[Sample], scenes: SceneSource, num_frames: int = 16
) -> list[dict[str, Any]]:
    """LLaMA-Factory ShareGPT records: the solver's prompt with `<image>` per frame."""
    records = []
    for entry in training_samples(samples, scenes, num_frames, only_accepted=True):
        proposal = entry.sample.proposal
        text = render_question(proposal.question, proposal.options, proposal.answer_kind)
        records.append(
            {
                "messages": [
                    {"role": "user", "content": IMAGE_PLACEHOLDER * len(entry.frame_files) + text},
                    {"role": "assistant", "content": str(entry.sample.ground_truth).strip()},
                ],
                "images": [str(path.resolve()) for path in entry.frame_files],
                "id": entry.sample.sample_id,
            }
        )
    return records


def write_sharegpt(
    samples: Iterable[Sample],
    scenes: SceneSource,
    folder: str | Path,
    name: str = "ouroboros_spatial",
    num_frames: int = 16,
) -> Path:
    """Write `{name}.json` and a `dataset_info.json` entry for it into `folder`."""
    folder = Path(folder)
    records = sharegpt_records(samples, scenes, num_frames)
    data_file = folder / f"{name}.json"
    atomic_write_text(data_file, json.dumps(records, indent=1) + "\n")
    info_file = folder / "dataset_info.json"
    info = json.loads(info_file.read_text(encoding="utf-8")) if info_file.exists() else {}
    info[name] = {
        "file_name": data_file.name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
        },
    }
    atomic_write_text(info_file, json.dumps(info, indent=1) + "\n")
    return data_file


def read_sharegpt(path: str | Path) -> list[dict[str, Any]]:
    """Load a ShareGPT file back, checking what LLaMA-Factory checks: one image per tag."""
    path = Path(path)
    records = json.loads(path.read_text(encoding="utf-8"))
    for index, record in enumerate(records):
        messages, images = record.get("messages"), record.get("images", [])
        if not messages or [m["role"] for m in messages] != ["user", "assistant"]:
            raise UserError(f"{path}: record {index} is not one user turn and one assistant turn")
        tags = messages[0]["content"].count(IMAGE_PLACEHOLDER)
        if tags != len(images):
            raise UserError(
                f"{path}: record {index} has {tags} {IMAGE_PLACEHOLDER} tags for {len(images)} images"
            )
        missing = [image for image in images if not Path(image).is_file()]
        if missing:
            raise UserError(f"{path}: record {index} names missing image files, e.g. {missing[0]}")
    return records
