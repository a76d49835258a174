"""Samples on disk: Parquet round trip, atomic writes, loadable with `datasets`."""

from __future__ import annotations

from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from agents.records import Proposal, Sample
from agents.sample_io import SAMPLE_SCHEMA, read_samples, write_samples
from common.errors import UserError


def _samples() -> list[Sample]:
    choice = Proposal(
        scene_id="demo-room",
        question_type="object_rel_direction_easy",
        question="Is the tv to the left or the right of the bed?",
        options=["A. left", "B. right"],
        answer_kind="multiple_choice",
        program="def solve(scene):\n    return 'A'\n",
        level=3,
        difficulty={"min_margin_deg": 25.0, "margin_deg": 31.2},
        frame_indices=[0, 4, 8],
        referenced_instances=[1, 3],
        template_id="object_rel_direction_easy/0",
    )
    numeric = Proposal(
        scene_id="demo-room",
        question_type="object_counting",
        question="How many chair(s) are in this room?",
        answer_kind="numeric",
        program="def solve(scene):\n    return 3\n",
    )
    return [
        Sample.from_proposal(choice).model_copy(
            update={"ground_truth": "A", "executed_value": "A"}
        ),
        Sample.from_proposal(numeric).model_copy(
            update={
                "verdict": "rejected",
                "reason": "ambiguous",
                "execution_error": "ambiguous: tie",
            }
        ),
    ]


def test_round_trip(tmp_path: Path) -> None:
    path = write_samples(_samples(), tmp_path / "samples.parquet")
    assert read_samples(path) == _samples()
    assert [p.name for p in tmp_path.iterdir()] == ["samples.parquet"]  # no temporary files left


def test_schema_holds_every_row_field() -> None:
    assert set(_samples()[0].to_row()) == set(SAMPLE_SCHEMA.names)


def test_empty_sets_keep_their_columns(tmp_path: Path) -> None:
    # (`datasets` refuses any split without rows, so this one is read with pyarrow.)
    path = write_samples([], tmp_path / "empty.parquet")
    assert read_samples(path) == []
    assert pq.read_schema(path).equals(SAMPLE_SCHEMA)


def test_loads_with_datasets_in_vsibench_shape(tmp_path: Path) -> None:
    path = write_samples(_samples(), tmp_path / "samples.parquet")
    rows = datasets.load_dataset("parquet", data_files=str(path))["train"]
    first = rows[0]
    assert first["question_type"] == "object_rel_direction_easy"
    assert first["options"] == ["A. left", "B. right"] and first["ground_truth"] == "A"
    assert rows[1]["verdict"] == "rejected" and rows[1]["ground_truth"] is None


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_samples(_samples()[:1], tmp_path / "samples.parquet")
    before = path.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        write_samples(_samples(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["samples.parquet"]


def test_user_mistakes(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\*\.parquet"):
        write_samples([], tmp_path / "samples.json")
    with pytest.raises(UserError, match="no such samples file"):
        read_samples(tmp_path / "missing.parquet")
