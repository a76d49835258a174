"""The operating-system layers on their own: a pool with the in-process guards switched off.

The audit hook is bypassable by design, so these tests check what still holds without it.
Each layer is machine-dependent (uid drop needs root; namespaces need unshare or bwrap), and
a test is skipped, saying why, where its layer is not active.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.sandbox import ErrorKind, LocalSandbox


@pytest.fixture(scope="module")
def bare_pool() -> Iterator[LocalSandbox]:
    pool = LocalSandbox(workers=1, guards=False).start()
    yield pool
    pool.close()


def _healthy(pool: LocalSandbox, scene: dict[str, Any], normal: tuple[str, Any]) -> None:
    result = pool.run(normal[0], scene)
    assert result.ok and result.value == normal[1], result


def test_isolation_report_names_the_active_layers(bare_pool: LocalSandbox) -> None:
    report = bare_pool.isolation
    assert report["launcher"] in ("bwrap", "unshare", "none")
    assert report["guards"] is False
    if os.geteuid() == 0 and bare_pool.config.drop_privileges:
        # as root, runs switch uid unless a user namespace (bwrap) makes that impossible
        assert report["run_uid"] is not None or report["launcher"] == "bwrap"


def test_network_namespace_blocks_even_raw_sockets(
    bare_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    if not bare_pool.isolation["network_isolated"]:
        pytest.skip("no network namespace here (needs unshare or bwrap)")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        result = bare_pool.run(
            "import _socket\n"
            "def solve(scene):\n"
            "    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
            "    s.settimeout(1)\n"
            f"    s.connect(('127.0.0.1', {port}))\n"
            "    return 'connected'",
            sandbox_scene,
        )
        assert result.error_kind is ErrorKind.EXCEPTION, result
        assert "unreachable" in result.error_message or "refused" in result.error_message
        with pytest.raises(BlockingIOError):
            listener.accept()
    _healthy(bare_pool, sandbox_scene, normal_program)


def test_process_limit_blocks_fork_and_threads(
    bare_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    if os.geteuid() == 0 and bare_pool.isolation["run_uid"] is None:
        pytest.skip("runs keep uid 0 here, for which the kernel ignores RLIMIT_NPROC")
    result = bare_pool.run(
        "import os, threading\n"
        "def solve(scene):\n"
        "    outcomes = []\n"
        "    try:\n        pid = os.fork()\n        if pid == 0:\n            os._exit(0)\n"
        "        outcomes.append('forked')\n"
        "    except OSError as error:\n        outcomes.append(type(error).__name__)\n"
        "    try:\n        threading.Thread(target=print).start()\n        outcomes.append('thread')\n"
        "    except RuntimeError:\n        outcomes.append('no thread')\n"
        "    return outcomes",
        sandbox_scene,
    )
    assert result.ok, result
    assert "forked" not in result.value and "thread" not in result.value, result.value
    _healthy(bare_pool, sandbox_scene, normal_program)


def test_unprivileged_uid_cannot_touch_root_files_or_signal_the_worker(
    bare_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    if bare_pool.isolation["run_uid"] is None:
        pytest.skip("runs do not switch uid here (host not root, or drop_privileges off)")
    library_file = Path(bare_pool._library) / "geometry" / "__init__.py"
    before = library_file.read_bytes()
    jail = bare_pool.isolation["filesystem_jail"]
    assert bare_pool._launcher is not None
    seen_by_runs = Path(bare_pool._launcher.library_dir or bare_pool._library) / "geometry"
    result = bare_pool.run(
        "import os, signal\n"
        "def solve(scene):\n"
        "    outcomes = []\n"
        "    for attempt in (\n"
        f"        lambda: open({str(seen_by_runs / '__init__.py')!r}, 'a').write('# x'),\n"
        "        lambda: open('/etc/shadow').read(),\n"
        "        lambda: os.kill(os.getppid(), signal.SIGKILL),\n"
        "    ):\n"
        "        try:\n            attempt()\n            outcomes.append('done')\n"
        "        except OSError as error:\n            outcomes.append(type(error).__name__)\n"
        "    return outcomes",
        sandbox_scene,
    )
    assert result.ok, result
    # in the jail the library is a read-only mount and /etc/shadow does not exist at all
    library, shadow, kill = result.value
    assert library in (("OSError", "PermissionError") if jail else ("PermissionError",))
    assert shadow == ("FileNotFoundError" if jail else "PermissionError")
    assert kill == "PermissionError"
    assert library_file.read_bytes() == before
    _healthy(bare_pool, sandbox_scene, normal_program)


def test_pid_namespace_hides_host_processes(
    bare_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    if not bare_pool.isolation["pid_namespace"]:
        pytest.skip("no pid namespace here (needs unshare or bwrap)")
    result = bare_pool.run(
        f"import os\ndef solve(scene):\n    return os.path.exists('/proc/{os.getpid()}/environ')"
        " and os.getpid() < 100",
        sandbox_scene,
    )
    assert result.ok and result.value is False, result
    _healthy(bare_pool, sandbox_scene, normal_program)


def test_native_crash_is_contained_without_guards(
    bare_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    result = bare_pool.run(
        "import ctypes\ndef solve(scene):\n    return ctypes.string_at(0)", sandbox_scene
    )
    assert result.error_kind is ErrorKind.CRASHED, result
    assert "SIGSEGV" in result.error_message
    _healthy(bare_pool, sandbox_scene, normal_program)


def test_environment_is_scrubbed_without_guards(
    bare_pool: LocalSandbox, sandbox_scene: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUROBOROS_LAYER_SECRET", "layer-secret-value")
    bare_pool._replace(0)  # a worker started while the host holds the secret
    result = bare_pool.run(
        "import os\ndef solve(scene):\n"
        "    try:\n        raw = open('/proc/self/environ', 'rb').read().decode()\n"
        "    except OSError as error:  # unreadable once the run dropped its uid\n"
        "        raw = type(error).__name__\n"
        "    return [dict(os.environ), raw]",
        sandbox_scene,
    )
    assert result.ok, result
    assert "layer-secret-value" not in str(result.value)
    assert set(result.value[0]) <= {"HOME", "TMPDIR", "PATH", "LANG"}
