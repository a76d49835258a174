"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path:
    candidates = [
        os.environ.get("OUROBOROS_SHARED_DATA"),
        REPO_ROOT.parent / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise FileNotFoundError(
        "shared/data not found beside the repository; set OUROBOROS_SHARED_DATA to its path"
    )


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    return _shared_data_dir()


@pytest.fixture(scope="session")
def vsibench_meta_path(shared_data_dir: Path) -> Path:
    """The real VSI-Bench metadata of 88 ScanNet rooms (never written by this project)."""
    return shared_data_dir / "vsibench_meta_info" / "scannet_meta_info_val.json"


@pytest.fixture(autouse=True)
def _task_registry_left_as_found() -> Iterator[None]:
    """A test that edits the task registry must put it back in its order: proposals are
    drawn by arm position, so a reordered registry changes later tests' questions."""
    import sys

    before = list(sys.modules["agents.tasks"].TASKS) if "agents.tasks" in sys.modules else None
    yield
    if before is not None:
        after = list(sys.modules["agents.tasks"].TASKS)
        assert after == before, f"the task registry was left changed: {before} -> {after}"
