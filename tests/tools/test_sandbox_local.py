"""The sandbox contract on the local pool: values, typed errors, output, parallel runs,
worker replacement, configuration errors, and how to register a new sandbox."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from common.errors import UserError
from scenes.schema import Scene
from tools.sandbox import (
    SANDBOXES,
    ErrorKind,
    ExecutionResult,
    LocalSandbox,
    Sandbox,
    make_sandbox,
)


def test_normal_program_answers_with_json_data(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    result = sandbox_pool.run(normal_program[0], sandbox_scene)
    assert result.ok and result.error_kind is ErrorKind.NONE
    assert result.value == normal_program[1]
    assert result.sandbox == "local" and result.duration_s > 0
    assert ExecutionResult.model_validate_json(result.model_dump_json()) == result


def test_a_scene_record_and_its_dict_give_the_same_answer(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    record = Scene.model_validate(sandbox_scene)
    assert sandbox_pool.run(normal_program[0], record).value == normal_program[1]
    assert sandbox_pool.run(normal_program[0], record).value == normal_program[1]  # cached


def test_solve_receives_a_scene_view_and_numpy_values_become_json(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any]
) -> None:
    result = sandbox_pool.run(
        "import numpy as np\n"
        "def solve(scene):\n"
        "    return {'type': type(scene).__name__, 'float': np.float64(1.5),\n"
        "            'ints': np.arange(3), 'flag': np.bool_(True), 'pair': (1, 'a')}",
        sandbox_scene,
    )
    assert result.ok, result
    assert result.value == {
        "type": "SceneView",
        "float": 1.5,
        "ints": [0, 1, 2],
        "flag": True,
        "pair": [1, "a"],
    }


def test_printed_output_is_captured(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any]
) -> None:
    result = sandbox_pool.run(
        "import sys\ndef solve(scene):\n    print('hello')\n    print('careful', file=sys.stderr)\n"
        "    return 1",
        sandbox_scene,
    )
    assert result.ok and result.stdout == "hello\n" and result.stderr == "careful\n"
    assert not result.output_truncated


@pytest.mark.parametrize(
    ("program", "kind", "words"),
    [
        ("def solve(scene)\n    return 1", ErrorKind.SYNTAX, ["line 1"]),
        ("def answer(scene):\n    return 1", ErrorKind.MISSING_SOLVE, ["def solve(scene)"]),
        ("solve = 3", ErrorKind.MISSING_SOLVE, ["solve(scene)"]),
        (
            "def solve(scene):\n    x = 1\n    return x / 0",
            ErrorKind.EXCEPTION,
            ["ZeroDivisionError", "line 3", "return x / 0"],
        ),
        (
            "import missing_module_xyz\ndef solve(s):\n    return 1",
            ErrorKind.EXCEPTION,
            ["loading"],
        ),
        (
            "import geometry\ndef solve(scene):\n    raise geometry.Ambiguous('0.01 m apart')",
            ErrorKind.AMBIGUOUS,
            ["0.01 m apart"],
        ),
        ("def solve(scene):\n    return {1: 'a'}", ErrorKind.NON_JSON, ["int key"]),
        ("def solve(scene):\n    return {'a'}", ErrorKind.NON_JSON, ["set"]),
        ("def solve(scene):\n    return -float('inf')", ErrorKind.NON_JSON, ["inf"]),
    ],
)
def test_failures_are_typed_and_explained(
    sandbox_pool: LocalSandbox,
    sandbox_scene: dict[str, Any],
    program: str,
    kind: ErrorKind,
    words: list[str],
) -> None:
    result = sandbox_pool.run(program, sandbox_scene)
    assert result.error_kind is kind, result
    assert result.value is None
    for word in words:
        assert word in result.error_message, result.error_message
    assert "sandbox_runtime" not in result.error_message  # no sandbox internals in the trace


def test_the_project_source_is_not_importable(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any]
) -> None:
    result = sandbox_pool.run(
        "def solve(scene):\n    names = []\n"
        "    for name in ('scenes', 'tools', 'agents'):\n"
        "        try:\n            __import__(name)\n            names.append(name)\n"
        "        except ImportError:\n            pass\n"
        "    return names",
        sandbox_scene,
    )
    assert result.ok and result.value == [], result


def test_bad_jobs_become_results_not_exceptions(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any]
) -> None:
    unsendable = sandbox_pool.run("def solve(s):\n    return 1", {"objects": {1, 2}})
    assert unsendable.error_kind is ErrorKind.SANDBOX_ERROR
    negative = sandbox_pool.run("def solve(s):\n    return 1", sandbox_scene, timeout_s=-1)
    assert negative.error_kind is ErrorKind.SANDBOX_ERROR and "timeout_s" in negative.error_message
    broken_scene = sandbox_pool.run("def solve(s):\n    return 1", {"objects": "nonsense"})
    assert broken_scene.error_kind is ErrorKind.SANDBOX_ERROR
    assert "SceneView" in broken_scene.error_message


def test_run_many_runs_in_parallel_and_keeps_order(sandbox_scene: dict[str, Any]) -> None:
    jobs = [
        (f"import time\ndef solve(scene):\n    time.sleep(0.4)\n    return {i}", sandbox_scene)
        for i in range(4)
    ]
    with LocalSandbox(workers=2) as pool:
        assert isinstance(pool, Sandbox)
        started = time.monotonic()
        results = pool.run_many(jobs)
        elapsed = time.monotonic() - started
        processes = [w.process for w in pool._workers if w is not None]
        root = pool._root
    assert [r.value for r in results] == [0, 1, 2, 3]
    assert elapsed < 1.5, f"4 x 0.4 s on 2 workers took {elapsed:.2f} s: not parallel"
    assert all(p.poll() is not None for p in processes), "close() left workers running"
    assert not Path(root).exists()
    assert pool.run_many([]) == []


def test_a_dead_worker_is_replaced(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    worker = sandbox_pool._workers[0]
    assert worker is not None
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    result = sandbox_pool.run(normal_program[0], sandbox_scene)
    assert result.ok and result.value == normal_program[1], result
    assert sandbox_pool._workers[0] is not worker


def test_a_worker_that_stops_answering_is_killed_and_replaced(
    sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    with LocalSandbox(workers=1, reply_grace_s=0.3) as pool:
        worker = pool._workers[0]
        assert worker is not None
        os.killpg(worker.process.pid, signal.SIGSTOP)
        stuck = pool.run(normal_program[0], sandbox_scene, timeout_s=0.3)
        assert stuck.error_kind is ErrorKind.SANDBOX_ERROR and "replaced" in stuck.error_message
        assert worker.process.poll() is not None
        result = pool.run(normal_program[0], sandbox_scene)
        assert result.ok and result.value == normal_program[1], result


def test_configuration_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"unknown sandbox 'docker'.*e2b.*local"):
        make_sandbox("docker")
    with pytest.raises(UserError, match=r"no setting worker_count.*workers:"):
        make_sandbox("local", worker_count=2)
    with pytest.raises(UserError, match="isolation"):
        LocalSandbox(isolation="vm").start()
    with pytest.raises(UserError, match="python setting"):
        LocalSandbox(workers=1, isolation="none", python=str(tmp_path / "no-python")).start()
    with pytest.raises(UserError, match="workers"):
        LocalSandbox(workers=0)


class CountingSandbox(Sandbox):
    """The smallest sandbox: answers the program's length. Shows the one-file extension."""

    name: ClassVar[str] = "counting"
    config_class: ClassVar[type] = dict

    def __init__(self, config: Any = None) -> None:
        self.parallelism = 2
        self.closed = False

    def run(
        self, program: str, scene: Any, *, timeout_s: float = 10.0, memory_mb: int = 1024
    ) -> ExecutionResult:
        return ExecutionResult(value=len(program), sandbox=self.name)

    def close(self) -> None:
        self.closed = True


def test_adding_a_sandbox_is_one_class_and_one_registry_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(SANDBOXES, "counting", CountingSandbox)
    with make_sandbox("counting") as sandbox:
        jobs: Sequence[tuple[str, Any]] = [("ab", {}), ("abc", {})]
        assert [r.value for r in sandbox.run_many(jobs)] == [2, 3]
    assert isinstance(sandbox, CountingSandbox) and sandbox.closed


def test_a_sandbox_must_implement_run_and_close() -> None:
    """The abstract base refuses a subclass that forgot a method, at construction, by name."""

    class ForgetsClose(Sandbox):
        name: ClassVar[str] = "forgets-close"

        def run(
            self, program: str, scene: Any, *, timeout_s: float = 10.0, memory_mb: int = 1024
        ) -> ExecutionResult:
            return ExecutionResult(value=0, sandbox=self.name)

    with pytest.raises(TypeError, match="close"):
        ForgetsClose()  # type: ignore[abstract]
    assert all(issubclass(cls, Sandbox) for cls in SANDBOXES.values())
