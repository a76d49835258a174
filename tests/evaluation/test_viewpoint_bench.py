"""The held-out viewpoint benchmark: reserved seeds, orbit-view rows only, balanced arms,
deterministic, and readable by the ProcSpatial loader the evaluator uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import UserError
from evaluation.held_out import HELD_OUT_SEED_START
from evaluation.procspatial import ProcSpatial
from evaluation.viewpoint_bench import (
    VIEWPOINT_SEED_BASE,
    VIEWPOINT_TASKS,
    ViewpointBenchConfig,
    build_viewpoint_bench,
)

SMALL = {"size": 30, "num_scenes": 4, "width": 64, "height": 48, "walkthrough_frames": 4}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_viewpoint_bench(
        tmp_path_factory.mktemp("vb") / "bench", ViewpointBenchConfig(**SMALL)
    )


def test_rows_are_viewpoint_questions_on_orbit_views(built: Path) -> None:
    bench = ProcSpatial.load(built)
    assert len(bench.rows) == 30
    assert {row.question_type for row in bench.rows} == set(VIEWPOINT_TASKS)
    for row in bench.rows:
        scene = bench.scene(row)
        orbit = {f.index for f in scene.orbit_frames}
        assert set(bench.frame_indices(row, 2)) <= orbit
        assert len(row.options or []) in (3, 4)
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["name"] == "viewpoint" and manifest["shortfall"] == {}
    assert manifest["seed_base"] == VIEWPOINT_SEED_BASE >= HELD_OUT_SEED_START


def test_building_twice_gives_the_same_rows(built: Path, tmp_path: Path) -> None:
    again = build_viewpoint_bench(tmp_path / "again", ViewpointBenchConfig(**SMALL))
    first = json.loads((built / "manifest.json").read_text())["fingerprint"]
    assert json.loads((again / "manifest.json").read_text())["fingerprint"] == first


def test_training_seeds_and_existing_folders_are_refused(built: Path) -> None:
    with pytest.raises(UserError, match="reserved range"):
        build_viewpoint_bench(
            built.parent / "x",
            ViewpointBenchConfig(seed_base=5, **{k: v for k, v in SMALL.items()}),
        )
    with pytest.raises(UserError, match="already exists"):
        build_viewpoint_bench(built, ViewpointBenchConfig(**SMALL))
