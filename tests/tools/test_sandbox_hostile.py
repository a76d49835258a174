"""Hostile programs against the local pool: each must be contained, and the pool must still
answer a normal program correctly right afterwards (on the same single worker)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.sandbox import ErrorKind, ExecutionResult

FAST_TIMEOUT_S = 0.6  # for programs that are expected to run into the wall-clock limit
RUN_TIMEOUT_S = 8.0  # generous for the others: a loaded CI machine must not fake a timeout
MEMORY_MB = 128


@dataclass
class Context:
    """What a hostile program may need to know about the host, and what checks need."""

    listener_port: int
    host_pid: int
    escape_path: Path
    library_file: Path
    secret: str


@dataclass
class Hostile:
    name: str
    program: str
    check: Callable[[ExecutionResult, Context], Any]  # asserts, or returns False on failure
    timeout_s: float = RUN_TIMEOUT_S


def refused(result: ExecutionResult, ctx: Context) -> None:
    assert not result.ok, result


def kind(*kinds: ErrorKind) -> Callable[[ExecutionResult, Context], None]:
    def check(result: ExecutionResult, ctx: Context) -> None:
        assert result.error_kind in kinds, result

    return check


def no_secret(result: ExecutionResult, ctx: Context) -> None:
    everything = f"{result.value} {result.stdout} {result.stderr} {result.error_message}"
    assert ctx.secret not in everything, result


def nothing_escaped(result: ExecutionResult, ctx: Context) -> None:
    assert not ctx.escape_path.exists(), f"{ctx.escape_path} was written: {result}"


def returns_zero_or_fails(result: ExecutionResult, ctx: Context) -> None:
    assert (not result.ok) or result.value == 0, result


def all_of(*checks: Callable[[ExecutionResult, Context], Any]) -> Callable[..., None]:
    """Every check must pass; a check may assert or return False."""

    def check(result: ExecutionResult, ctx: Context) -> None:
        for each in checks:
            assert each(result, ctx) is not False, result

    return check


HOSTILE: list[Hostile] = [
    Hostile(
        "shell via os.system",
        "import os\ndef solve(scene):\n    return os.system('touch {escape}')",
        all_of(refused, nothing_escaped),
    ),
    Hostile(
        "subprocess",
        "import subprocess\ndef solve(scene):\n"
        "    return subprocess.run(['id'], capture_output=True).stdout.decode()",
        all_of(refused, lambda r, c: "uid=" not in r.stdout),
    ),
    Hostile(
        "os.popen",
        "import os\ndef solve(scene):\n    return os.popen('echo hi > {escape}').read()",
        all_of(refused, nothing_escaped),
    ),
    Hostile(
        "os.execv replaces the process",
        "import os\ndef solve(scene):\n    os.execv('/bin/sh', ['sh', '-c', 'touch {escape}'])",
        all_of(refused, nothing_escaped),
    ),
    Hostile(
        "socket to a listener on 127.0.0.1",
        "import socket\ndef solve(scene):\n"
        "    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "    s.sendall(b'leak')\n    return 'connected'",
        refused,
    ),
    Hostile(
        "_socket imported directly",
        "import _socket\ndef solve(scene):\n"
        "    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n"
        "    s.connect(('127.0.0.1', {port}))\n    return 'connected'",
        refused,
    ),
    Hostile(
        "socket class recovered from an existing module",
        "import socket\ndef solve(scene):\n"
        "    cls = socket.SocketType.__mro__[0] if hasattr(socket.SocketType, '__mro__') else None\n"
        "    import _socket\n    raw = type(_socket.socket) if False else _socket.SocketType\n"
        "    s = raw(2, 1)\n    s.connect(('127.0.0.1', {port}))\n    return 'connected'",
        refused,
    ),
    Hostile(
        "socket through ctypes and libc",
        "import ctypes\ndef solve(scene):\n"
        "    libc = ctypes.CDLL(None)\n    return libc.socket(2, 1, 0)",
        refused,
    ),
    Hostile(
        "host secret in os.environ and /proc environ files",
        "import os\ndef solve(scene):\n"
        "    found = [str(dict(os.environ))]\n"
        "    for path in ('/proc/self/environ', '/proc/1/environ', f'/proc/{{os.getppid()}}/environ'):\n"
        "        try:\n            found.append(open(path, 'rb').read().decode(errors='replace'))\n"
        "        except Exception as e:\n            found.append(repr(e))\n"
        "    return found",
        no_secret,
    ),
    Hostile(
        "the host process's environ by pid",
        "def solve(scene):\n    return open('/proc/{host_pid}/environ', 'rb').read().decode()",
        refused,
    ),
    Hostile(
        "write outside the working directory",
        "def solve(scene):\n    open('{escape}', 'w').write('escaped')\n    return 1",
        all_of(refused, nothing_escaped),
    ),
    Hostile(
        "write through a relative path that climbs out",
        "import os\ndef solve(scene):\n"
        "    up = '../' * (os.getcwd().count('/') + 1)\n"
        "    open(up + '{escape}'.lstrip('/'), 'w').write('escaped')\n    return 1",
        all_of(refused, nothing_escaped),
    ),
    Hostile(
        "symlink to a host file, then read it",
        "import os\ndef solve(scene):\n    os.symlink('/etc/passwd', 'p')\n    return open('p').read()",
        refused,
    ),
    Hostile(
        "overwrite the geometry library's source",
        "def solve(scene):\n    open('{library_file}', 'a').write('\\nraise SystemExit')\n"
        "    return 1",
        all_of(refused, lambda r, c: "SystemExit" not in c.library_file.read_text()),
    ),
    Hostile(
        "fork bomb",
        "import os\ndef solve(scene):\n    made = 0\n    for _ in range(200):\n"
        "        try:\n            pid = os.fork()\n        except Exception:\n            break\n"
        "        if pid == 0:\n            while True:\n                pass\n        made += 1\n"
        "    return made",
        returns_zero_or_fails,
    ),
    Hostile(
        "memory bomb: one huge allocation",
        "def solve(scene):\n    return len(bytearray(8 * 1024 ** 3))",
        kind(ErrorKind.MEMORY),
    ),
    Hostile(
        "memory bomb: growing list",
        "def solve(scene):\n    hoard = []\n    while True:\n        hoard.append(' ' * 2 ** 20)",
        kind(ErrorKind.MEMORY),
    ),
    Hostile(
        "memory bomb: numpy",
        "import numpy as np\ndef solve(scene):\n    return float(np.ones((60000, 60000)).sum())",
        kind(ErrorKind.MEMORY),
    ),
    Hostile(
        "infinite loop",
        "def solve(scene):\n    while True:\n        pass",
        kind(ErrorKind.TIMEOUT),
        FAST_TIMEOUT_S,
    ),
    Hostile(
        "sleep past the deadline",
        "import time\ndef solve(scene):\n    time.sleep(60)",
        kind(ErrorKind.TIMEOUT),
        FAST_TIMEOUT_S,
    ),
    Hostile(
        "ignore SIGTERM and loop",
        "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "def solve(scene):\n    while True:\n        pass",
        kind(ErrorKind.TIMEOUT),
        FAST_TIMEOUT_S,
    ),
    Hostile(
        "very slow import (loop at module level)",
        "while True:\n    pass\ndef solve(scene):\n    return 1",
        kind(ErrorKind.TIMEOUT),
        FAST_TIMEOUT_S,
    ),
    Hostile(
        "close the output pipes and keep running",
        "import os\ndef solve(scene):\n    for fd in (1, 2, 3):\n        os.close(fd)\n"
        "    while True:\n        pass",
        kind(ErrorKind.TIMEOUT),
        FAST_TIMEOUT_S,
    ),
    Hostile(
        "deep recursion",
        "def solve(scene):\n    def down(n):\n        return down(n + 1)\n    return down(0)",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "deep recursion past the C stack",
        "import sys\nsys.setrecursionlimit(10 ** 7)\n"
        "def solve(scene):\n    def down(n):\n        return down(n + 1) + 1\n    return down(0)",
        # unwinding ~1e6 frames at the memory limit takes seconds on a loaded machine
        kind(ErrorKind.CRASHED, ErrorKind.EXCEPTION, ErrorKind.MEMORY, ErrorKind.TIMEOUT),
    ),
    Hostile(
        "stdout flood",
        "def solve(scene):\n    while True:\n        print('x' * 1000)",
        kind(ErrorKind.OUTPUT_LIMIT),
    ),
    Hostile(
        "stderr flood through the raw descriptor",
        "import os\ndef solve(scene):\n    while True:\n        os.write(2, b'y' * 4096)",
        kind(ErrorKind.OUTPUT_LIMIT),
    ),
    Hostile(
        "huge return value",
        "def solve(scene):\n    return 'x' * (3 * 1024 * 1024)",
        kind(ErrorKind.OUTPUT_LIMIT),
    ),
    Hostile(
        "non-JSON return: an object",
        "def solve(scene):\n    return object()",
        kind(ErrorKind.NON_JSON),
    ),
    Hostile(
        "non-JSON return: the scene itself",
        "def solve(scene):\n    return scene",
        kind(ErrorKind.NON_JSON),
    ),
    Hostile(
        "NaN and infinity",
        "def solve(scene):\n    return [float('nan'), float('inf')]",
        kind(ErrorKind.NON_JSON),
    ),
    Hostile(
        "generator return",
        "def solve(scene):\n    return (i for i in range(3))",
        kind(ErrorKind.NON_JSON),
    ),
    Hostile(
        "integer too long for JSON text",
        "def solve(scene):\n    return 10 ** 10000",
        kind(ErrorKind.NON_JSON),
    ),
    Hostile(
        "ctypes segfault",
        "import ctypes\ndef solve(scene):\n    return ctypes.string_at(0)",
        kind(ErrorKind.EXCEPTION, ErrorKind.CRASHED),
    ),
    Hostile(
        "sys.exit inside solve",
        "import sys\ndef solve(scene):\n    sys.exit(0)",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "sys.exit while loading",
        "import sys\nsys.exit(3)\ndef solve(scene):\n    return 1",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "os._exit",
        "import os\ndef solve(scene):\n    os._exit(0)",
        kind(ErrorKind.CRASHED),
    ),
    Hostile(
        "raise a bare BaseException subclass",
        "class Escape(BaseException):\n    pass\ndef solve(scene):\n    raise Escape('out')",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "raise KeyboardInterrupt",
        "def solve(scene):\n    raise KeyboardInterrupt",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "monkeypatch the geometry library in memory",
        "import geometry\ndef solve(scene):\n"
        "    geometry.box_distance = lambda a, b: 42.0\n"
        "    geometry.SceneView.count = lambda self, category: 99\n"
        "    return geometry.box_distance(None, None)",
        lambda r, c: r.value == 42.0,  # its own run sees the change; the next run must not
    ),
    Hostile(
        "threads left running",
        "import threading\ndef solve(scene):\n"
        "    threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=False).start()\n"
        "    return 1",
        lambda r, c: None,  # started or refused; the health check shows nothing lingers
    ),
    Hostile(
        "kill the parent worker",
        "import os, signal\ndef solve(scene):\n    os.kill(os.getppid(), signal.SIGKILL)\n"
        "    return 1",
        refused,
    ),
    Hostile(
        "open many files",
        "def solve(scene):\n    return [open('/dev/null') for _ in range(100000)] and 1",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "large file in the working directory",
        "def solve(scene):\n    with open('big', 'wb') as f:\n"
        "        for _ in range(64):\n            f.write(b'0' * 2 ** 20)\n    return 1",
        kind(ErrorKind.EXCEPTION),
    ),
    Hostile(
        "raise resource limits",
        "import resource\ndef solve(scene):\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n    return 1",
        refused,
    ),
    Hostile(
        "write /proc/self/mem",
        "def solve(scene):\n    open('/proc/self/mem', 'wb').write(b'x')\n    return 1",
        refused,
    ),
    Hostile(
        "read a root-only host file",
        "def solve(scene):\n    return open('/etc/shadow').read()",
        refused,
    ),
    Hostile(
        "alarm handler fires after solve returns",
        "import signal\ndef boom(*_):\n    raise KeyboardInterrupt\n"
        "def solve(scene):\n    signal.signal(signal.SIGALRM, boom)\n"
        "    signal.setitimer(signal.ITIMER_REAL, 0.001)\n    return 7",
        lambda r, c: (r.value == 7 or r.error_kind is ErrorKind.EXCEPTION) or pytest.fail(str(r)),
    ),
    Hostile(
        "monkeypatch builtins and json",
        "import builtins, json\ndef solve(scene):\n"
        "    builtins.isinstance = lambda *a: False\n    builtins.len = lambda *a: 0\n"
        "    json.dumps = lambda *a, **k: 'forged'\n    return [1, 2]",
        lambda r, c: (r.ok and r.value == [1, 2]) or pytest.fail(f"answer garbled: {r}"),
    ),
    Hostile(
        "__import__ and importlib tricks",
        "def solve(scene):\n    posix = __builtins__['__import__']('posix') if isinstance("
        "__builtins__, dict) else __builtins__.__import__('posix')\n"
        "    return posix.system('touch {escape}')",
        all_of(refused, nothing_escaped),
    ),
    Hostile(
        "replace a function's code to disarm checks",
        "import os\ndef solve(scene):\n    os.path.realpath.__code__ = (lambda p: p).__code__\n"
        "    return 1",
        refused,
    ),
    Hostile(
        "hunt the audit hook through gc",
        "import gc\ndef solve(scene):\n    return len(gc.get_objects())",
        refused,
    ),
    Hostile(
        "forge a reply on the result channel",
        "import os\ndef solve(scene):\n"
        '    os.write(3, b\'{{"kind": "none", "value": "forged"}}\\n\')\n    return 1',
        lambda r, c: (r.value == 1) or pytest.fail(f"forged reply won: {r}"),
    ),
    Hostile(
        "make the working directory unremovable",
        "import os\ndef solve(scene):\n    os.makedirs('a/b/c')\n    open('a/b/c/f', 'w').write('x')\n"
        "    os.chmod('a/b/c', 0)\n    os.chmod('a/b', 0)\n    os.chmod('.', 0o500)\n    return 1",
        lambda r, c: None,  # checked below: the pool's run folder is empty afterwards
    ),
]


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def context(
    listener: socket.socket, sandbox_pool: Any, sandbox_secret: tuple[str, str]
) -> Iterator[Context]:
    escape = Path("/tmp") / f"ouroboros-escape-{uuid.uuid4().hex}"
    library_file = Path(sandbox_pool._library) / "geometry" / "__init__.py"
    yield Context(
        listener_port=listener.getsockname()[1],
        host_pid=os.getpid(),
        escape_path=escape,
        library_file=library_file,
        secret=sandbox_secret[1],
    )
    escape.unlink(missing_ok=True)


def test_there_are_at_least_thirty_hostile_programs() -> None:
    assert len(HOSTILE) >= 30
    assert len({h.name for h in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_program_is_contained(
    hostile: Hostile,
    context: Context,
    listener: socket.socket,
    sandbox_pool: Any,
    sandbox_scene: dict[str, Any],
    normal_program: tuple[str, Any],
) -> None:
    program = hostile.program.format(
        port=context.listener_port,
        host_pid=context.host_pid,
        escape=context.escape_path,
        library_file=context.library_file,
    )
    result = sandbox_pool.run(
        program, sandbox_scene, timeout_s=hostile.timeout_s, memory_mb=MEMORY_MB
    )

    assert result.error_kind is not ErrorKind.SANDBOX_ERROR, result
    assert result.duration_s < hostile.timeout_s + 3.0, result
    assert hostile.check(result, context) is not False, result
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection ever reached the host's listener

    source, answer = normal_program
    after = sandbox_pool.run(source, sandbox_scene)
    assert after.ok and after.value == answer, after
    assert run_folders_removed(Path(sandbox_pool._runs_root)), "a run's folder was left behind"
    if sandbox_pool.isolation["filesystem_jail"]:
        assert nothing_left_in_the_jail(sandbox_pool, sandbox_scene)


# tmpfs reports a folder's size as 40 bytes plus 20 per entry, and nlink as 2 plus its
# subfolders: so an empty /tmp and /dev/shm, and a runs folder holding only the current run,
# read [3, 40, 40] through os.stat, which the guards allow.
JAIL_LEFTOVERS = (
    "import os\ndef solve(scene):\n"
    "    return [os.stat('..').st_nlink, os.stat('/tmp').st_size, os.stat('/dev/shm').st_size]"
)


def nothing_left_in_the_jail(pool: Any, scene: dict[str, Any]) -> bool:
    seen = pool.run(JAIL_LEFTOVERS, scene)
    assert seen.ok and seen.value == [3, 40, 40], f"something was left behind: {seen}"
    return True


def run_folders_removed(runs_root: Path, within_s: float = 3.0) -> bool:
    """The worker removes a run's folder right after replying, so allow it a moment."""
    deadline = time.monotonic() + within_s
    while list(runs_root.iterdir()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_run_cannot_see_the_previous_runs_state(
    sandbox_pool: Any, sandbox_scene: dict[str, Any]
) -> None:
    first = sandbox_pool.run(
        "import builtins, geometry, os\n"
        "def solve(scene):\n"
        "    open('note.txt', 'w').write('from the first run')\n"
        "    builtins.LEFT_BEHIND = 'state'\n"
        "    geometry.LEFT_BEHIND = 'state'\n"
        "    return os.path.abspath('note.txt')",
        sandbox_scene,
    )
    assert first.ok, first
    second = sandbox_pool.run(
        "import builtins, geometry, os\n"
        "def solve(scene):\n"
        "    seen = [hasattr(builtins, 'LEFT_BEHIND'), hasattr(geometry, 'LEFT_BEHIND')]\n"
        f"    try:\n        seen.append(open({first.value!r}).read())\n"
        "    except Exception as error:\n        seen.append(type(error).__name__)\n"
        "    try:\n        seen.append(os.listdir('..'))\n"
        "    except Exception as error:\n        seen.append(type(error).__name__)\n"
        "    return seen",
        sandbox_scene,
    )
    assert second.ok, second
    assert second.value[:2] == [False, False]
    assert "from the first run" not in str(second.value)
    assert second.value[3] in ("PermissionError", []), second.value
