"""Fixtures for scene tests (several test modules share them; append, don't overwrite)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from scenes.schema import OrientedBox

LOADER_FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def loader_fixtures_dir() -> Path:
    """Tiny ScanNet / ARKitScenes sources in their native formats (see fixtures/make_fixtures.py)."""
    return LOADER_FIXTURES


@pytest.fixture(scope="session")
def fixture_truth() -> dict:
    """What the loader fixtures were built from: rooms, boxes and poses to compare against."""
    return json.loads((LOADER_FIXTURES / "fixture_truth.json").read_text())


@pytest.fixture
def scannet_copy(tmp_path: Path) -> Path:
    """A writable copy of the ScanNet fixture (``scans/`` with one scene and the label map)."""
    target = tmp_path / "scans"
    shutil.copytree(LOADER_FIXTURES / "scannet", target)
    return target


@pytest.fixture
def arkitscenes_copy(tmp_path: Path) -> Path:
    """A writable copy of the ARKitScenes fixture (one video folder)."""
    target = tmp_path / "arkit"
    shutil.copytree(LOADER_FIXTURES / "arkitscenes", target)
    return target


@pytest.fixture(scope="session")
def same_box() -> Callable[[OrientedBox, dict], bool]:
    """True when a loaded box and a truth entry (center, extents, yaw_degrees) have the same
    corners: boxes equal up to the symmetry of relabelling their axes."""

    def check(box: OrientedBox, truth: dict, tolerance: float = 1e-4) -> bool:
        yaw = np.radians(truth["yaw_degrees"])
        c, s = np.cos(yaw), np.sin(yaw)
        expected = OrientedBox(
            center=tuple(truth["center"]),
            extents=tuple(truth["extents"]),
            rotation=((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0)),
        )
        distances = cdist(box.corners(), expected.corners())
        return bool(
            distances.min(axis=0).max() < tolerance and distances.min(axis=1).max() < tolerance
        )

    return check
