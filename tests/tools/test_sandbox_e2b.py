"""The E2B sandbox at its boundary: the SDK's `Sandbox` class is replaced by a recording fake.

E2B itself is unreachable here. One fake executes what it is given on this machine (files go
to a temporary folder, `run_code` runs the driver with this Python), so the whole path, from
upload to parsing the worker's reply, is exercised; others return canned SDK answers to check
how errors and timeouts are mapped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from common.errors import UserError
from tools.sandbox import E2BSandbox, ErrorKind, make_sandbox

sdk = pytest.importorskip("e2b_code_interpreter")

API_KEY = "e2b-fake-key-123"


class FakeFiles:
    def __init__(self, owner: RecordingSandbox) -> None:
        self.owner = owner

    def write(self, path: str, data: bytes | str, **options: Any) -> None:
        content = data.encode() if isinstance(data, str) else bytes(data)
        self.owner.calls.append(("write", path, content, options))
        if self.owner.executes:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(content)


class RecordingSandbox:
    """Records every call; `answer(code, timeout)` decides what `run_code` does."""

    instances: ClassVar[list[RecordingSandbox]] = []
    answer: ClassVar[Callable[[str, float | None], Any] | None] = None
    create_error: ClassVar[Exception | None] = None

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.calls: list[tuple[Any, ...]] = []
        self.files = FakeFiles(self)
        self.killed = False
        self.executes = RecordingSandbox.answer is run_locally

    @classmethod
    def create(cls, **options: Any) -> RecordingSandbox:
        if cls.create_error is not None:
            raise cls.create_error
        sandbox = cls(options)
        cls.instances.append(sandbox)
        return sandbox

    def run_code(self, code: str, timeout: float | None = None, **options: Any) -> Any:
        self.calls.append(("run_code", code, timeout, options))
        assert RecordingSandbox.answer is not None
        return RecordingSandbox.answer(code, timeout)

    def kill(self) -> None:
        self.killed = True


def run_locally(code: str, timeout: float | None) -> Any:
    """What the code-interpreter kernel would do: run the cell, collect its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin"},
    )
    return sdk.Execution(
        logs=sdk.Logs(stdout=[done.stdout.decode()], stderr=[done.stderr.decode()])
    )


@pytest.fixture
def fake_e2b(
    monkeypatch: pytest.MonkeyPatch, sandbox_secret: tuple[str, str]
) -> type[RecordingSandbox]:
    monkeypatch.setattr(sdk, "Sandbox", RecordingSandbox)
    monkeypatch.setenv("E2B_API_KEY", API_KEY)
    monkeypatch.setenv(*sandbox_secret)
    monkeypatch.setattr(RecordingSandbox, "instances", [])
    monkeypatch.setattr(RecordingSandbox, "answer", staticmethod(run_locally))
    monkeypatch.setattr(RecordingSandbox, "create_error", None)
    return RecordingSandbox


def answering(answer: Callable[[str, float | None], Any]) -> Callable[..., Any]:
    return staticmethod(answer)


def test_without_the_package_the_error_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("E2B_API_KEY", API_KEY)
    monkeypatch.setitem(sys.modules, "e2b_code_interpreter", None)
    with pytest.raises(UserError, match=r"pip install 'ouroboros-spatial\[e2b\]'"):
        make_sandbox("e2b")


def test_without_an_api_key_the_error_says_where_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    with pytest.raises(UserError, match=r"\$E2B_API_KEY.*e2b.dev.*local sandbox"):
        make_sandbox("e2b")


def test_a_run_uploads_the_library_and_job_and_parses_the_reply(
    fake_e2b: type[RecordingSandbox],
    tmp_path: Path,
    sandbox_scene: dict[str, Any],
    normal_program: tuple[str, Any],
    sandbox_secret: tuple[str, str],
) -> None:
    remote_dir = str(tmp_path / "remote")
    with make_sandbox("e2b", remote_dir=remote_dir, workers=1) as sandbox:
        first = sandbox.run(normal_program[0], sandbox_scene, timeout_s=5.0)
        second = sandbox.run(normal_program[0], sandbox_scene, timeout_s=5.0)
    assert first.ok and first.value == normal_program[1], first
    assert second.ok and second.value == normal_program[1], second
    assert first.sandbox == "e2b"

    (remote,) = fake_e2b.instances  # one remote sandbox, reused
    assert remote.options["api_key"] == API_KEY
    assert remote.options["allow_internet_access"] is False
    assert remote.killed, "close() must kill the remote sandbox"
    written = {call[1]: call[2] for call in remote.calls if call[0] == "write"}
    assert f"{remote_dir}/lib/geometry/__init__.py" in written
    assert f"{remote_dir}/lib/sandbox_runtime/worker.py" in written
    library_uploads = [p for p in written if "/lib/" in p]
    assert len([c for c in remote.calls if c[0] == "write" and "/lib/" in c[1]]) == len(
        library_uploads
    ), "the library must be uploaded once per remote sandbox, not per run"
    jobs = [json.loads(content) for path, content in written.items() if "/jobs/" in path]
    assert len(jobs) == 2
    assert jobs[0]["program"] == normal_program[0] and jobs[0]["scene"] == sandbox_scene
    assert jobs[0]["timeout_s"] == 5.0 and jobs[0]["memory_mb"] == 1024
    runs = [call for call in remote.calls if call[0] == "run_code"]
    assert len(runs) == 2
    code, timeout = runs[0][1], runs[0][2]
    assert "--once" in code and "/jobs/" in code and timeout == 5.0 + 20.0
    assert not any(Path(p).exists() for p in written if "/jobs/" in p), "job files remain"
    secret_name, secret_value = sandbox_secret
    everything = repr([remote.options, remote.calls])
    assert secret_value not in everything and secret_name not in everything
    assert API_KEY not in repr(remote.calls), "the API key must not enter the sandbox"


def test_remote_runs_keep_the_local_error_kinds(
    fake_e2b: type[RecordingSandbox], tmp_path: Path, sandbox_scene: dict[str, Any]
) -> None:
    with E2BSandbox(remote_dir=str(tmp_path / "remote"), workers=1) as sandbox:
        looping = sandbox.run(
            "def solve(s):\n    while True:\n        pass", sandbox_scene, timeout_s=0.5
        )
        failing = sandbox.run("def solve(s):\n    return 1 / 0", sandbox_scene)
        leaking = sandbox.run("import os\ndef solve(s):\n    return os.system('id')", sandbox_scene)
    assert looping.error_kind is ErrorKind.TIMEOUT, looping
    assert (
        failing.error_kind is ErrorKind.EXCEPTION and "ZeroDivisionError" in failing.error_message
    )
    assert leaking.error_kind is ErrorKind.EXCEPTION and "not allowed" in leaking.error_message


def test_run_many_uses_up_to_workers_remote_sandboxes(
    fake_e2b: type[RecordingSandbox], tmp_path: Path, sandbox_scene: dict[str, Any]
) -> None:
    jobs = [(f"def solve(s):\n    return {i}", sandbox_scene) for i in range(4)]
    with E2BSandbox(remote_dir=str(tmp_path / "remote"), workers=2) as sandbox:
        results = sandbox.run_many(jobs)
    assert [r.value for r in results] == [0, 1, 2, 3]
    assert 1 <= len(fake_e2b.instances) <= 2
    assert all(remote.killed for remote in fake_e2b.instances)


def test_an_sdk_timeout_is_a_timeout_and_the_remote_sandbox_is_replaced(
    fake_e2b: type[RecordingSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    def too_slow(code: str, timeout: float | None) -> Any:
        raise sdk.TimeoutException("Execution timed out")

    monkeypatch.setattr(RecordingSandbox, "answer", answering(too_slow))
    sandbox = E2BSandbox(workers=1)
    result = sandbox.run("def solve(s):\n    return 1", {"objects": []}, timeout_s=2.0)
    assert result.error_kind is ErrorKind.TIMEOUT and "22 s" in result.error_message
    assert fake_e2b.instances[0].killed
    sandbox.run("def solve(s):\n    return 1", {"objects": []})
    assert len(fake_e2b.instances) == 2, "a timed-out remote sandbox must not be reused"
    sandbox.close()


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        (
            lambda code, timeout: sdk.Execution(
                error=sdk.ExecutionError(name="NameError", value="x is not defined", traceback="")
            ),
            ErrorKind.SANDBOX_ERROR,
            ["NameError", "x is not defined"],
        ),
        (
            lambda code, timeout: sdk.Execution(logs=sdk.Logs(stdout=["hello\n"])),
            ErrorKind.SANDBOX_ERROR,
            ["no reply", "hello"],
        ),
        (
            lambda code, timeout: sdk.Execution(
                logs=sdk.Logs(stdout=["OUROBOROS-SANDBOX-REPLY {broken\n"])
            ),
            ErrorKind.SANDBOX_ERROR,
            ["not a JSON object"],
        ),
        (
            lambda code, timeout: sdk.Execution(
                logs=sdk.Logs(
                    stdout=[
                        'noise\nOUROBOROS-SANDBOX-REPLY {"kind": "ambiguous", ',
                        '"message": "tie"}\n',
                    ]
                )
            ),
            ErrorKind.AMBIGUOUS,
            ["tie"],
        ),
        (
            lambda code, timeout: sdk.Execution(
                logs=sdk.Logs(stdout=['OUROBOROS-SANDBOX-REPLY {"kind": "world_domination"}\n'])
            ),
            ErrorKind.SANDBOX_ERROR,
            ["does not fit"],
        ),
    ],
)
def test_what_comes_back_is_mapped_to_a_result(
    fake_e2b: type[RecordingSandbox],
    monkeypatch: pytest.MonkeyPatch,
    answer: Callable[[str, float | None], Any],
    kind: ErrorKind,
    words: list[str],
) -> None:
    monkeypatch.setattr(RecordingSandbox, "answer", answering(answer))
    with E2BSandbox(workers=1) as sandbox:
        result = sandbox.run("def solve(s):\n    return 1", {"objects": []})
    assert result.error_kind is kind, result
    for word in words:
        assert word in result.error_message, result


def test_sdk_failures_become_sandbox_errors_not_exceptions(
    fake_e2b: type[RecordingSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(code: str, timeout: float | None) -> Any:
        raise sdk.SandboxException("sandbox is gone")

    monkeypatch.setattr(RecordingSandbox, "answer", answering(unreachable))
    with E2BSandbox(workers=1) as sandbox:
        gone = sandbox.run("def solve(s):\n    return 1", {"objects": []})
        assert (
            gone.error_kind is ErrorKind.SANDBOX_ERROR and "sandbox is gone" in gone.error_message
        )
        assert fake_e2b.instances[0].killed
        monkeypatch.setattr(
            RecordingSandbox, "create_error", sdk.AuthenticationException("bad key")
        )
        refused = sandbox.run("def solve(s):\n    return 1", {"objects": []})
    assert refused.error_kind is ErrorKind.SANDBOX_ERROR and "bad key" in refused.error_message


def test_a_waiting_run_replaces_a_remote_sandbox_that_failed(
    fake_e2b: type[RecordingSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def first_fails(code: str, timeout: float | None) -> Any:
        calls.append(1)
        if len(calls) == 1:
            entered.set()
            release.wait(5)
            raise sdk.SandboxException("lost")
        return sdk.Execution(
            logs=sdk.Logs(stdout=['OUROBOROS-SANDBOX-REPLY {"kind": "none", "value": 2}\n'])
        )

    monkeypatch.setattr(RecordingSandbox, "answer", answering(first_fails))
    sandbox = E2BSandbox(workers=1)
    results: dict[str, Any] = {}
    first = threading.Thread(target=lambda: results.update(a=sandbox.run("a", {"objects": []})))
    second = threading.Thread(target=lambda: results.update(b=sandbox.run("b", {"objects": []})))
    first.start()
    assert entered.wait(5)
    second.start()  # finds the only remote sandbox busy and waits
    release.set()
    first.join(10)
    second.join(10)
    assert not second.is_alive(), "the waiting run never got a remote sandbox"
    assert results["a"].error_kind is ErrorKind.SANDBOX_ERROR
    assert results["b"].ok and results["b"].value == 2
    assert len(fake_e2b.instances) == 2
    sandbox.close()
