"""ProcSpatial: reserved seeds, balanced allocation, deterministic builds, VSI-Bench rows,
frames from the scene folders, and the tiny solver evaluated on it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from agents.records import VSIBENCH_TASKS, Sample
from agents.solver.backends import load_solver
from agents.solver.config import SolverConfig
from agents.solver.tiny import build_tiny_solver
from agents.tasks import TASKS, Task
from common.errors import UserError
from evaluation import procspatial_build
from evaluation.evaluator import evaluate
from evaluation.held_out import (
    HELD_OUT_SEED_START,
    check_held_out_seeds,
    check_training_seeds,
    is_held_out_seed,
)
from evaluation.metrics import MULTIPLE_CHOICE_TASKS, NUMERIC_TASKS
from evaluation.procspatial import (
    MANIFEST_FILE,
    PROCSPATIAL_TASKS,
    PROCSPATIAL_VERSION,
    ROWS_FILE,
    VSIBENCH_QUESTION_TYPES,
    ProcSpatial,
    benchmark_question_type,
)
from evaluation.procspatial_build import build_procspatial
from evaluation.procspatial_plan import (
    allocate,
    balance,
    benchmark_arms,
    order_rows,
    pinned_tasks,
)
from evaluation.vsibench import load_benchmark_rows
from scenes.schema import Scene

SMALL = {
    "size": 40,
    "num_scenes": 6,  # route planning needs 6 of these tiny rooms for its levels 4-5
    "frames": 16,
    "width": 64,
    "height": 48,
    "question_frames": 8,
    "workers": 2,
    "progress": False,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_procspatial(tmp_path_factory.mktemp("procspatial") / "bench", **SMALL)


# -- reserved seeds ---------------------------------------------------------------------


def test_training_seeds_below_the_reserved_range_pass_and_overlaps_are_refused() -> None:
    check_training_seeds(0, 6)
    check_training_seeds(HELD_OUT_SEED_START - 10, 10)
    with pytest.raises(UserError, match="reserved for the held-out ProcSpatial"):
        check_training_seeds(HELD_OUT_SEED_START - 5, 6)
    with pytest.raises(UserError, match=r"scenes\.seed"):
        check_training_seeds(HELD_OUT_SEED_START, 1)
    assert is_held_out_seed(HELD_OUT_SEED_START) and not is_held_out_seed(HELD_OUT_SEED_START - 1)


def test_benchmark_seeds_must_be_reserved() -> None:
    check_held_out_seeds(HELD_OUT_SEED_START, 100)
    with pytest.raises(UserError, match="below 1,000,000"):
        check_held_out_seeds(999_999, 4)
    with pytest.raises(UserError, match="below 1,000,000"):
        build_procspatial(Path("/nonexistent/never-written"), size=10, seed_base=5)


def test_built_scenes_use_reserved_seeds(built: Path) -> None:
    manifest = ProcSpatial.load(built).manifest
    seeds = [
        Scene.load(path).provenance["seed"] for path in sorted((built / "procspatial").iterdir())
    ]
    assert seeds == list(range(HELD_OUT_SEED_START, HELD_OUT_SEED_START + 6))
    assert manifest.seed_base == HELD_OUT_SEED_START and manifest.num_scenes == 6


# -- allocation and balance ------------------------------------------------------------


def test_default_allocation_is_uniform_over_tasks_and_levels() -> None:
    quotas = allocate(benchmark_arms(vsibench_only=False), 1000)
    assert sum(quotas.values()) == 1000
    per_task = Counter()
    per_level = Counter()
    for (task, level), quota in quotas.items():
        per_task[task] += quota
        per_level[level] += quota
    assert list(per_task) == list(PROCSPATIAL_TASKS[PROCSPATIAL_VERSION])
    assert max(per_task.values()) - min(per_task.values()) <= 1
    assert max(per_level.values()) - min(per_level.values()) <= 1
    assert max(quotas.values()) - min(quotas.values()) <= 1


def test_vsibench_only_arms_keep_vsibench_question_types() -> None:
    arms = benchmark_arms(vsibench_only=True)
    assert set(arms) == set(VSIBENCH_QUESTION_TYPES)
    for task in NUMERIC_TASKS:
        assert arms[task] == [4, 5]  # levels 1-3 ask the number as multiple choice
    assert arms["route_planning"] == [1, 2, 3, 4, 5]
    assert sum(allocate(arms, 500).values()) == 500


def test_question_type_splits_off_numeric_tasks_asked_as_choice() -> None:
    assert benchmark_question_type("object_counting", "numeric") == "object_counting"
    assert benchmark_question_type("object_counting", "multiple_choice") == "object_counting_choice"
    assert benchmark_question_type("route_planning", "multiple_choice") == "route_planning"
    assert benchmark_question_type("camera_rotation", "multiple_choice") == "camera_rotation"


def _samples(task: str, level: int, count: int) -> list[Sample]:
    return [
        Sample.model_validate(
            {
                "sample_id": f"{task}-{level}-{k}",
                "proposal": {
                    "scene_id": "s",
                    "question_type": task,
                    "question": f"q{k}?",
                    "answer_kind": "numeric",
                    "program": "def solve(scene): return 1",
                    "level": level,
                },
                "ground_truth": "1",
            }
        )
        for k in range(count)
    ]


def test_balance_moves_a_short_levels_gap_to_the_same_tasks_other_levels() -> None:
    quotas = {("a", 1): 2, ("a", 2): 2, ("b", 1): 2}
    kept = {
        ("a", 1): _samples("a", 1, 0),
        ("a", 2): _samples("a", 2, 5),
        ("b", 1): _samples("b", 1, 1),
    }
    chosen, shortfall = balance(kept, quotas)
    assert [len(chosen[arm]) for arm in quotas] == [0, 4, 1]
    assert shortfall == {"b": 1}


def test_rows_interleave_levels_within_a_task() -> None:
    chosen = {
        ("a", 1): _samples("a", 1, 2),
        ("a", 2): _samples("a", 2, 1),
        ("b", 1): _samples("b", 1, 1),
    }
    order = [(s.proposal.question_type, s.proposal.level) for s in order_rows(chosen)]
    assert order == [("a", 1), ("a", 2), ("a", 1), ("b", 1)]


def test_built_benchmark_is_balanced(built: Path) -> None:
    manifest = ProcSpatial.load(built).manifest
    assert manifest.num_rows == 40 and not manifest.shortfall
    rows = pq.read_table(built / ROWS_FILE).to_pylist()
    by_arm = Counter((row["task"], row["level"]) for row in rows)
    assert by_arm == Counter({(arm.task, arm.level): arm.rows for arm in manifest.arms if arm.rows})
    per_task = Counter(row["task"] for row in rows)
    quota_per_task = Counter()
    for arm in manifest.arms:
        quota_per_task[arm.task] += arm.quota
    assert per_task == quota_per_task  # a short level's gap stays within its task
    assert set(per_task) == set(PROCSPATIAL_TASKS[manifest.version]) == set(manifest.tasks)
    assert max(per_task.values()) - min(per_task.values()) <= 1


# -- the pinned task list ------------------------------------------------------------------

#: The SMALL build's fingerprint under version 2, recorded when the task list was pinned.
#: It changes only when a change alters version 2's rows: then bump PROCSPATIAL_VERSION
#: (and pin the new version's tasks) instead of updating this value.
VERSION_2_SMALL_FINGERPRINT = "55545c52c6d54775"


def test_version_2_rows_are_the_ones_built_before_the_pin(built: Path) -> None:
    manifest = ProcSpatial.load(built).manifest
    assert manifest.version == "2" and manifest.num_rows == 40
    assert manifest.fingerprint == VERSION_2_SMALL_FINGERPRINT, (
        "ProcSpatial version 2's rows changed; bump PROCSPATIAL_VERSION "
        "(evaluation/procspatial.py) if that was meant"
    )


class _Unasked(Task):
    """A registered task no ProcSpatial version pins."""

    name = "unasked_task"
    description = "Never asked."
    templates = ("Is this asked?",)
    levels: ClassVar[dict[int, dict[str, int]]] = {level: {} for level in range(1, 6)}

    def propose(self, ctx: object, level: int) -> None:
        raise NotImplementedError


def test_a_newly_registered_task_changes_no_existing_version() -> None:
    registry = {"unasked_task": _Unasked(), **TASKS}  # even first in the registry
    for vsibench_only in (False, True):
        arms = benchmark_arms(vsibench_only, registry=registry)
        assert arms == benchmark_arms(vsibench_only) and "unasked_task" not in arms
        assert allocate(arms, 1000) == allocate(benchmark_arms(vsibench_only), 1000)


def test_a_version_whose_task_is_gone_or_unknown_is_refused(tmp_path: Path) -> None:
    registry = {name: task for name, task in TASKS.items() if name != "route_planning"}
    with pytest.raises(UserError, match=r"version 2 asks task type\(s\) route_planning"):
        pinned_tasks("2", registry)
    with pytest.raises(UserError, match=r"builds ProcSpatial version 2, not '3'"):
        pinned_tasks("3")
    with pytest.raises(UserError, match="not '3'"):
        build_procspatial(tmp_path / "three", version="3", **SMALL)
    assert not (tmp_path / "three").exists()


def test_building_a_version_whose_task_left_the_registry_writes_nothing(tmp_path: Path) -> None:
    registry = dict(TASKS)  # restored in its own order: later tests draw arms by position
    del TASKS["obj_appearance_order"]  # as if its registry line were removed
    try:
        with pytest.raises(UserError, match=r"asks task type\(s\) obj_appearance_order.*restore"):
            build_procspatial(tmp_path / "bench", **SMALL)
    finally:
        TASKS.clear()
        TASKS.update(registry)
    assert not (tmp_path / "bench").exists()


# -- rows, version, determinism -----------------------------------------------------------


def test_rows_are_vsibench_rows_with_extra_columns(built: Path) -> None:
    rows = load_benchmark_rows(built / ROWS_FILE)  # VSI-Bench's loader validates each row
    assert [row.id for row in rows] == list(range(len(rows)))
    for row in rows:
        extra = row.model_extra or {}
        assert row.dataset == "procspatial" and row.scene_name.startswith("proc_1")
        assert (built / row.dataset / row.scene_name / "scene.json").is_file()
        assert extra["level"] in (1, 2, 3, 4, 5) and len(extra["frame_indices"]) >= 1
        if row.question_type in NUMERIC_TASKS:
            assert extra["answer_kind"] == "numeric" and row.options is None
        if row.question_type in MULTIPLE_CHOICE_TASKS or row.question_type.endswith("_choice"):
            assert extra["answer_kind"] == "multiple_choice" and row.options
    manifest = json.loads((built / MANIFEST_FILE).read_text())
    assert manifest["version"] == "2" and len(manifest["fingerprint"]) == 16
    assert "grounding" in manifest["verifier_checks"] and "blind" not in manifest["verifier_checks"]


@pytest.mark.slow
def test_building_twice_gives_identical_rows(built: Path, tmp_path: Path) -> None:
    again = build_procspatial(tmp_path / "again", **SMALL)
    first = pq.read_table(built / ROWS_FILE).to_pylist()
    second = pq.read_table(again / ROWS_FILE).to_pylist()
    assert first == second
    assert (built / MANIFEST_FILE).read_text() == (again / MANIFEST_FILE).read_text()


def test_existing_folder_and_unknown_version_are_refused(built: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="already exists"):
        build_procspatial(built, **SMALL)
    with pytest.raises(UserError, match=r"builds ProcSpatial version 2, not '0\.9'"):
        build_procspatial(tmp_path / "old", version="0.9", **SMALL)
    assert not (tmp_path / "old").exists()


def test_a_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("sandbox died")

    monkeypatch.setattr(procspatial_build, "_questions", fail)
    with pytest.raises(RuntimeError, match="sandbox died"):
        build_procspatial(tmp_path / "bench", **{**SMALL, "num_scenes": 1})
    assert list(tmp_path.iterdir()) == []


def test_missing_or_foreign_folders_say_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="build-procspatial"):
        ProcSpatial.load(tmp_path / "nope")
    with pytest.raises(UserError, match=r"no manifest\.json"):
        ProcSpatial.load(tmp_path)


# -- loading and frames -------------------------------------------------------------------


def test_limit_and_vsibench_only_subsets(built: Path) -> None:
    everything = ProcSpatial.load(built)
    vsibench = ProcSpatial.load(built, vsibench_only=True)
    assert 0 < len(vsibench.rows) < len(everything.rows)
    assert {row.question_type for row in vsibench.rows} <= set(VSIBENCH_QUESTION_TYPES)
    small = ProcSpatial.load(built, limit=10)
    assert len(small.rows) == 10 and len({row.question_type for row in small.rows}) == 10


def test_frames_are_the_rows_own_frames_read_from_the_scene(built: Path) -> None:
    bench = ProcSpatial.load(built)
    row = bench.rows[0]
    indices = (row.model_extra or {})["frame_indices"]
    images = bench.frames_for(row, 99)  # the row names its frames; the count does not apply
    assert len(images) == len(indices)
    scene = bench.scene(row)
    for index, image in zip(indices, images, strict=True):
        path = bench.scene_dir(row) / scene.frames[index].image_path
        assert np.array_equal(np.asarray(image), np.asarray(Image.open(path).convert("RGB")))


def test_rows_without_frames_use_the_shared_uniform_rule(built: Path) -> None:
    bench = ProcSpatial.load(built)
    row = bench.rows[0].model_copy(update={"frame_indices": None})
    assert bench.frame_indices(row, 4) == [0, 5, 10, 15]  # linspace(0, 15, 4) floored
    assert len(bench.frames_for(row, 4)) == 4


def test_tiny_solver_runs_on_procspatial(built: Path, tmp_path: Path) -> None:
    checkpoint = build_tiny_solver(tmp_path / "tiny")
    config = SolverConfig(model=str(checkpoint), device="cpu", frame_size=64, max_new_tokens=4)
    bench = ProcSpatial.load(built, limit=8)
    report = evaluate(load_solver(config), bench, batch_size=4, model=str(checkpoint))
    assert report.settings["frames"] == 8  # the benchmark's own count
    assert report.benchmark.version == "2" and report.benchmark.fingerprint == bench.fingerprint
    assert [p.id for p in report.predictions] == [row.id for row in bench.rows]
    assert report.result.num_rows == 8
    present = set(report.result.tasks) | set(report.result.extra_tasks)
    assert present & set(VSIBENCH_TASKS) and all(0 <= p.score <= 1 for p in report.predictions)
