"""Exports of accepted samples load back: VSI-Bench rows and LLaMA-Factory ShareGPT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.records import Sample
from agents.solver.prompts import render_question
from common.errors import UserError
from evaluation.vsibench import load_benchmark_rows
from training.exports import read_sharegpt, write_sharegpt, write_vsibench_rows


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".json"])
def test_vsibench_rows_load_back(samples: list[Sample], tmp_path: Path, suffix: str) -> None:
    path = write_vsibench_rows(samples, tmp_path / f"rows{suffix}", dataset="procedural")
    rows = load_benchmark_rows(path)
    accepted = [s for s in samples if s.verdict == "accepted"]
    assert [row.id for row in rows] == [s.sample_id for s in accepted]
    for row, sample in zip(rows, accepted, strict=True):
        proposal = sample.proposal
        assert (row.dataset, row.scene_name) == ("procedural", proposal.scene_id)
        assert (row.question_type, row.question) == (proposal.question_type, proposal.question)
        assert row.ground_truth == sample.ground_truth
        assert row.options == (proposal.options or None)
        assert set(row.model_dump()) == {
            "id",
            "dataset",
            "scene_name",
            "question_type",
            "question",
            "ground_truth",
            "options",
        }


def test_sharegpt_loads_back_with_one_image_per_tag(
    samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    data_file = write_sharegpt(samples, scene_root, tmp_path, name="spatial", num_frames=4)
    records = read_sharegpt(data_file)
    accepted = [s for s in samples if s.verdict == "accepted"]
    assert [r["id"] for r in records] == [s.sample_id for s in accepted]
    for record, sample in zip(records, accepted, strict=True):
        user, assistant = record["messages"]
        proposal = sample.proposal
        prompt = render_question(proposal.question, proposal.options, proposal.answer_kind)
        assert user["content"] == "<image>" * len(record["images"]) + prompt
        assert assistant["content"] == sample.ground_truth
        assert all(Path(image).is_absolute() for image in record["images"])
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["spatial"]["file_name"] == "spatial.json"
    assert info["spatial"]["formatting"] == "sharegpt"
    assert info["spatial"]["columns"] == {"messages": "messages", "images": "images"}


def test_broken_sharegpt_is_reported(
    samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    data_file = write_sharegpt(samples, scene_root, tmp_path, num_frames=4)
    records = json.loads(data_file.read_text())
    records[1]["images"] = records[1]["images"][:-1]
    data_file.write_text(json.dumps(records))
    with pytest.raises(UserError, match="record 1 has 4 <image> tags for 3 images"):
        read_sharegpt(data_file)


def test_export_refuses_an_unknown_suffix(samples: list[Sample], tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.parquet, \.jsonl or \.json"):
        write_vsibench_rows(samples, tmp_path / "rows.csv")
