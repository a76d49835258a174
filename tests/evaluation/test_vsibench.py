"""The VSI-Bench loader on a fixture in the published format (rows + generated mp4s)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from common.errors import UserError
from evaluation.records import Benchmark, BenchmarkRow
from evaluation.vsibench import VsiBench, build_prompt, load_benchmark_rows, select_rows

FrameNumber = Callable[[Image.Image, int], int]


@pytest.mark.parametrize("name", ["test-00000-of-00001.parquet", "test.jsonl", "test.json"])
def test_rows_load_alike_from_parquet_jsonl_and_json(vsibench_root: Path, name: str) -> None:
    rows = load_benchmark_rows(vsibench_root / name)
    assert len(rows) == 11
    counting = rows[0]
    assert (counting.id, counting.dataset, counting.scene_name) == (0, "scannet", "scene0000_00")
    assert counting.ground_truth == "3" and counting.options is None
    choice = rows[4]
    assert choice.question_type == "object_rel_distance"
    assert choice.options == ["A. chair", "B. table", "C. sofa", "D. lamp"]
    assert choice.ground_truth == "B"


def test_folder_finds_its_rows_and_videos(vsibench_root: Path, frame_number: FrameNumber) -> None:
    bench = VsiBench.load(vsibench_root)
    assert isinstance(bench, Benchmark)
    assert bench.data_root == vsibench_root
    assert bench.missing_videos() == []
    scannet_row, arkit_row = bench.rows[0], bench.rows[2]
    assert bench.video_path(arkit_row) == vsibench_root / "arkitscenes" / "41069025.mp4"
    scannet_frames = bench.frames_for(scannet_row, 8)
    assert [frame_number(frame, 6) for frame in scannet_frames] == [0, 5, 11, 16, 22, 27, 33, 39]
    arkit_frames = bench.frames_for(arkit_row, 8)
    assert [frame_number(frame, 10) for frame in arkit_frames] == [0, 3, 6, 9, 13, 16, 19, 23]


def test_missing_video_is_reported_by_name(vsibench_root: Path, tmp_path: Path) -> None:
    bench = VsiBench.load(vsibench_root / "test.jsonl", data_root=tmp_path)
    assert len(bench.missing_videos()) == 2
    with pytest.raises(UserError, match=r"2 video\(s\) missing .*scene0000_00\.mp4"):
        bench.check_videos()
    with pytest.raises(UserError, match=r"scannet/scene0000_00\.mp4: video not found"):
        bench.frames_for(bench.rows[0], 4)


def test_rows_by_video_groups_in_first_appearance_order(vsibench_root: Path) -> None:
    bench = VsiBench.load(vsibench_root / "test.json")
    groups = [[row.id for row in group] for group in bench.rows_by_video()]
    assert groups == [[0, 1, 4, 5, 8, 10], [2, 3, 6, 7, 9]]


def _fixture_rows(vsibench_root: Path) -> list[BenchmarkRow]:
    return load_benchmark_rows(vsibench_root / "test.jsonl")


def test_limit_takes_rows_round_robin_across_question_types(vsibench_root: Path) -> None:
    rows = _fixture_rows(vsibench_root)
    assert [row.id for row in select_rows(rows, limit=3)] == [0, 1, 2]
    # Ten question types: the eleventh row (a second counting one) comes only at depth two.
    assert [row.id for row in select_rows(rows, limit=10)] == list(range(10))
    assert len(select_rows(rows, limit=50)) == 11


def test_question_type_filter(vsibench_root: Path) -> None:
    rows = select_rows(_fixture_rows(vsibench_root), question_types=["object_counting"], limit=1)
    assert [row.id for row in rows] == [0]
    with pytest.raises(UserError, match="not in the benchmark: object_height"):
        select_rows(_fixture_rows(vsibench_root), question_types=["object_height"])
    with pytest.raises(UserError, match="at least 1"):
        select_rows(_fixture_rows(vsibench_root), limit=0)


def test_prompts_match_lmms_eval(vsibench_root: Path) -> None:
    rows = _fixture_rows(vsibench_root)
    assert build_prompt(rows[0]) == (
        "These are frames of a video.\nQuestion 0 about object_counting?\n"
        "Please answer the question using a single word or phrase."
    )
    assert build_prompt(rows[4]) == (
        "These are frames of a video.\nQuestion 4 about object_rel_distance?\nOptions:\n"
        "A. chair\nB. table\nC. sofa\nD. lamp\n"
        "Answer with the option's letter from the given choices directly."
    )


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(rows))
    return path


_GOOD: dict[str, Any] = {
    "id": 3,
    "dataset": "scannet",
    "scene_name": "scene0000_00",
    "question_type": "object_counting",
    "question": "How many chairs?",
    "ground_truth": "4",
    "options": None,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"question": None}, r"row 0 \(id 3\): field 'question'"),
        ({"ground_truth": "many"}, "'many' of a numeric question must be a positive number"),
        ({"ground_truth": "0"}, "must be a positive number"),
        (
            {"question_type": "route_planning", "ground_truth": "E", "options": ["A. x", "B. y"]},
            r"'E' is not one of the option letters \['A', 'B'\]",
        ),
        ({"question_type": "route_planning", "ground_truth": "A"}, "needs options"),
    ],
)
def test_bad_rows_name_file_row_and_problem(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = _write_rows(tmp_path / "rows.json", [{**_GOOD, **change}])
    with pytest.raises(UserError, match=message) as caught:
        load_benchmark_rows(path)
    assert str(path) in str(caught.value)


def test_missing_column_is_named(tmp_path: Path) -> None:
    row = {key: value for key, value in _GOOD.items() if key != "scene_name"}
    with pytest.raises(UserError, match="field 'scene_name': Field required"):
        load_benchmark_rows(_write_rows(tmp_path / "rows.json", [row]))


def test_numbers_as_ground_truth_and_extra_columns_are_accepted(tmp_path: Path) -> None:
    path = _write_rows(tmp_path / "rows.json", [{**_GOOD, "ground_truth": 4, "pruned": False}])
    (row,) = load_benchmark_rows(path)
    assert row.ground_truth == "4"
    assert row.model_extra == {"pruned": False}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.csv", "id\n1\n", "unsupported rows file"),
        ("rows.json", "{not json", "not valid JSON"),
        ("rows.json", '{"id": 1}', "expected a list of row objects"),
        ("rows.parquet", "not parquet", "not a readable Parquet file"),
    ],
)
def test_unreadable_rows_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_benchmark_rows(path)


def test_missing_rows_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="rows file not found"):
        load_benchmark_rows(tmp_path / "nope.parquet")
    with pytest.raises(UserError, match=r"no rows file \(\.parquet"):
        load_benchmark_rows(tmp_path)
