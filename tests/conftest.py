"""Fixtures shared by every test package."""

from __future__ import annotations

import os
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
