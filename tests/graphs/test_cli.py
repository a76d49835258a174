"""The command line as a user meets it, through the installed `ouroboros` entry point.

Every user mistake is one line on stderr with exit code 2 (typer's own usage errors
included: typer ships its own click, and a dependency bump once turned them into
53-line tracebacks). Ctrl-C exits 130 and says how to resume. A damaged checkpoint
database is refused in one line and left byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from graphs.config import load_config
from tests.graphs.cli_process import run_cli, start_cli
from tests.graphs.loop_settings import TINY_LOOP

USAGE_MISTAKES = [
    pytest.param(["runx"], "No such command 'runx'", id="unknown-command"),
    pytest.param(["run", "--bogus"], "No such option: --bogus", id="unknown-option"),
    pytest.param(["scenes", "generate", "--num", "3"], "Missing option '--out'", id="missing"),
    pytest.param(["scenes", "generate", "--num", "0", "--out", "x"], "--num", id="out-of-range"),
    pytest.param(["eval", "--limit", "zero"], "--limit", id="not-a-number"),
    pytest.param(["report"], "Missing argument", id="missing-argument"),
]


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("argv", "expected"), USAGE_MISTAKES)
def test_usage_mistakes_are_one_line_with_exit_code_2(
    argv: list[str], expected: str, tmp_path: Path
) -> None:
    result = run_cli(*argv, cwd=tmp_path, timeout=60)
    assert_one_line_error(result, expected)
    assert "--help" in result.stderr  # where to look next
    assert list(tmp_path.iterdir()) == []  # nothing written before the mistake was caught


def test_bad_configuration_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    result = run_cli("run", "--out", str(tmp_path / "run"), "loop.iterations=0", timeout=60)
    assert_one_line_error(result, "loop.iterations")
    assert not (tmp_path / "run").exists()


def test_help_and_no_arguments(tmp_path: Path) -> None:
    helped = run_cli("run", "--help", cwd=tmp_path, timeout=60)
    assert helped.returncode == 0 and "--resume" in helped.stdout
    bare = run_cli(cwd=tmp_path, timeout=60)
    assert bare.returncode == 2 and "Usage" in bare.stdout and bare.stderr == ""


def run_dir_with(tmp_path: Path, database: bytes) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    config = load_config("cpu-tiny", None, TINY_LOOP).model_dump(mode="json")
    (run / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (run / "checkpoints.sqlite").write_bytes(database)
    return run


def checkpoint_db(path: Path, steps: int) -> bytes:
    """A checkpoint database as LangGraph writes it: `steps` saved steps of a small graph."""
    import sqlite3
    from typing import TypedDict

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        text: str

    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        if steps:
            graph = StateGraph(State)
            graph.add_node("grow", lambda state: {"text": state["text"] + os.urandom(8000).hex()})
            graph.add_edge(START, "grow")
            graph.add_edge("grow", END)
            compiled = graph.compile(checkpointer=saver)
            for _ in range(steps):
                compiled.invoke({"text": ""}, {"configurable": {"thread_id": "loop"}})
        conn.commit()
    finally:
        conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["empty", "truncated", "not-sqlite", "no-checkpoint"])
def test_resume_refuses_a_damaged_checkpoint_db_and_leaves_it(damage: str, tmp_path: Path) -> None:
    database = {
        "empty": lambda: b"",
        "truncated": lambda: (whole := checkpoint_db(tmp_path / "a.sqlite", 3))[: len(whole) // 3],
        "not-sqlite": lambda: b"this is not a database\n" * 10,
        "no-checkpoint": lambda: checkpoint_db(tmp_path / "b.sqlite", 0),  # tables, no step
    }[damage]()
    run = run_dir_with(tmp_path, database)
    before = sorted(p.name for p in run.iterdir())
    result = run_cli("run", "--resume", str(run), timeout=60)
    assert_one_line_error(result, str(run / "checkpoints.sqlite"))
    assert ("empty" if damage == "empty" else "damaged" if damage != "no-checkpoint" else
            "no checkpoint") in result.stderr  # fmt: skip
    assert hashlib.sha256((run / "checkpoints.sqlite").read_bytes()).digest() == (
        hashlib.sha256(database).digest()
    )
    assert sorted(p.name for p in run.iterdir()) == before  # no -wal/-shm, no new files


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A band-selection run stopped by Ctrl-C after its first stage, then resumed."""
    run = tmp_path_factory.mktemp("interrupt") / "run"
    # the random tiny solver (not the seeing one) is unsure of everything: the band is empty
    process = start_cli("run", "--out", str(run), *TINY_LOOP, "loop.iterations=1",
                        "loop.selection=band", "solver.model=tiny")  # fmt: skip
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "preparing" in line:  # the first stage is done: stop as a person would
            os.killpg(process.pid, signal.SIGINT)
            break
    out, err = process.communicate(timeout=120)
    # every stage prints its line, so the log check does not depend on the machine's speed
    resumed = run_cli("run", "--resume", str(run), timeout=600, OUROBOROS_STAGE_LINES_AFTER_S="0")
    return {
        "run": run,
        "code": process.returncode,
        "stdout": "".join(seen) + out,
        "stderr": err,
        "resumed": resumed,
    }


@pytest.mark.slow
def test_ctrl_c_exits_130_and_says_how_to_resume(interrupted_run: dict[str, object]) -> None:
    run = interrupted_run["run"]
    assert interrupted_run["code"] == 130, interrupted_run["stderr"]
    stderr = str(interrupted_run["stderr"])
    assert stderr.startswith("interrupted")
    assert f"ouroboros run --resume {run}" in stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_resume_finishes_the_interrupted_run(interrupted_run: dict[str, object]) -> None:
    resumed = interrupted_run["resumed"]
    assert isinstance(resumed, subprocess.CompletedProcess)
    assert resumed.returncode == 0, resumed.stderr
    run = Path(str(interrupted_run["run"]))
    assert (run / "metrics.json").exists() and (run / "iterations" / "000" / "train.json").exists()
    assert f"ouroboros report {run}" in resumed.stdout  # what to do next
    assert (run / "solver" / "latest").is_dir()


@pytest.mark.slow
def test_band_selection_with_an_empty_band_warns_what_to_change(
    interrupted_run: dict[str, object],
) -> None:
    resumed = interrupted_run["resumed"]
    assert isinstance(resumed, subprocess.CompletedProcess)
    output = " ".join(resumed.stdout.split())
    assert "warning: iteration 0: loop.selection=band kept 0 of" in output
    assert "loop.selection=all" in output and "loop.hard=" in output
    run = Path(str(interrupted_run["run"]))
    assert "skipped" in (run / "iterations" / "000" / "train.json").read_text()


@pytest.mark.slow
def test_logs_show_stages_whole_task_names_and_no_library_warnings(
    interrupted_run: dict[str, object],
) -> None:
    resumed = interrupted_run["resumed"]
    assert isinstance(resumed, subprocess.CompletedProcess)
    log = resumed.stdout + resumed.stderr
    assert "Warning" not in log  # FutureWarning and friends stay out of the user's log
    assert "…" not in log  # output to a file keeps task names whole
    assert "iteration 0 · running programs and verifying" in log


def test_a_new_run_refuses_a_folder_holding_another_unfinished_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    other = load_config("cpu-tiny", None, [*TINY_LOOP, "seed=7"]).model_dump(mode="json")
    (run / "config.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    result = run_cli("run", "--out", str(run), *TINY_LOOP, timeout=60)
    assert_one_line_error(result, "holds an unfinished run with other settings")
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml"]
