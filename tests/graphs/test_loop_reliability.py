"""Kill the run process (SIGKILL) at several points and resume: nothing lost, nothing doubled."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agents.sample_io import read_samples
from graphs.build import FAULT_ENV
from graphs.store import RunStore

_spec = importlib.util.spec_from_file_location(
    "loop_settings", Path(__file__).with_name("loop_settings.py")
)
loop_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loop_settings)

OVERRIDES = loop_settings.TINY_LOOP_NO_EVALUATION
CLI = [sys.executable, "-m", "graphs.cli", "run"]


def _run(args: list[str], fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=600)


def _accepted(run_dir: Path) -> dict[int, list[str]]:
    store = RunStore(run_dir)
    return {
        i: sorted(
            s.sample_id for s in read_samples(store.samples_path(i)) if s.verdict == "accepted"
        )
        for i in store.iterations()
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[str]]:
    run_dir = tmp_path_factory.mktemp("clean") / "run"
    done = _run(["--out", str(run_dir), "--quiet", *OVERRIDES])
    assert done.returncode == 0, done.stderr[-3000:]
    accepted = _accepted(run_dir)
    assert sorted(accepted) == [0, 1] and all(accepted.values())
    return accepted


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["propose:0", "execute_verify:0", "train:0", "score:1"])
def test_sigkill_after_a_node_then_resume(tmp_path: Path, fault: str, uninterrupted: dict) -> None:
    run_dir = tmp_path / "run"
    killed = _run(["--out", str(run_dir), "--quiet", *OVERRIDES], fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = _run(["--resume", str(run_dir), "--quiet"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _accepted(run_dir) == uninterrupted
    again = _run(["--resume", str(run_dir)])
    assert again.returncode == 0 and "already finished" in again.stdout


def test_resume_of_something_that_is_not_a_run(tmp_path: Path) -> None:
    result = _run(["--resume", str(tmp_path)])
    assert result.returncode == 2
    assert "is not a run directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_existing_run_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "checkpoints.sqlite").write_bytes(b"")
    result = _run(["--out", str(tmp_path)])
    assert result.returncode == 2 and "--resume" in result.stderr
