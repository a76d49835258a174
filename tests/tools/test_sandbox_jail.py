"""Attacks that first switch off every in-process guard, then try the host: the bubblewrap jail
must hold on its own. Plus what the zygote and the cleanup promise: no run sees an earlier
run's data, and no tree a program leaves can break the pool. Each attack is followed by a
normal program that must still give the right answer on the same worker."""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.sandbox import ErrorKind, LocalSandbox, isolation
from tools.sandbox.pool_folder import PoolFolder, remove_stale_pool_folders

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_MB, SCRATCH_MB = 8, 4

# Pure Python, no audit event: numpy's documented __array_interface__ makes an array over any
# address, and the guards' own tables are rewritten through it (as an attacker would).
SWITCH_OFF_GUARDS = """
import os, sys
import numpy as np

class _Raw:
    def __init__(self, address, size):
        self.__array_interface__ = {
            "data": (address, False), "shape": (size,), "typestr": "|u1", "version": 3}

def _poke(address, value):
    np.asarray(_Raw(address, 8)).view(np.int64)[0] = value

_guards = sys.modules["sandbox_runtime.guards"]
_poke(id(_guards.BLOCKED_EVENT_PREFIXES) + 16, 0)  # tuple of 0 prefixes: nothing blocked
for _root in _guards.EXTRA_READ_ROOTS:  # a read root of length 0 allows every path
    _poke(id(_root) + 16, 0)
for _const in _guards.make_audit_hook.__code__.co_consts:
    if _const == "/dev/null":  # the same for the writable roots
        _poke(id(_const) + 16, 0)

def guards_are_off():
    try:
        os.listdir("/")
        return True
    except PermissionError:
        return False
"""

READ_EVERYTHING_LEFT = """
def solve(scene):
    return {
        "guards_off": guards_are_off(),
        "tmp": os.listdir("/tmp"),
        "shm": os.listdir("/dev/shm"),
        "run_folders": os.stat("..").st_nlink - 2,  # tmpfs: 2 + its subfolders
    }
"""


@pytest.fixture(scope="module")
def jailed_pool() -> Iterator[LocalSandbox]:
    if isolation.probe("bwrap", sys.executable):
        pytest.skip(f"no bubblewrap jail here: {isolation.probe('bwrap', sys.executable)}")
    pool = LocalSandbox(
        workers=1, isolation="bwrap", run_folder_mb=RUN_MB, scratch_mb=SCRATCH_MB
    ).start()
    yield pool
    pool.close()


@pytest.fixture
def host_bait(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A world-readable secret file, a listening Unix socket and an escape path on the host."""
    token = secrets.token_hex(8)
    folder = Path("/tmp") / f"ouroboros-bait-{token}"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    secret = folder / "secret.txt"
    secret.write_text(f"host-secret-{token}")
    os.chmod(secret, 0o644)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(folder / "host.sock"))
    os.chmod(folder / "host.sock", 0o777)
    listener.listen(1)
    listener.setblocking(False)
    yield {
        "token": token,
        "secret": secret,
        "socket": folder / "host.sock",
        "listener": listener,
        "escape": Path("/tmp") / f"ouroboros-escape-{token}",
    }
    listener.close()
    (Path("/tmp") / f"ouroboros-escape-{token}").unlink(missing_ok=True)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def _healthy(pool: LocalSandbox, scene: dict[str, Any], normal: tuple[str, Any]) -> None:
    result = pool.run(normal[0], scene)
    assert result.ok and result.value == normal[1], result


def _nothing_left(pool: LocalSandbox, scene: dict[str, Any]) -> None:
    seen = pool.run(SWITCH_OFF_GUARDS + READ_EVERYTHING_LEFT, scene)
    assert seen.ok and seen.value["guards_off"], seen
    assert seen.value["tmp"] == [] and seen.value["shm"] == [], seen.value
    assert seen.value["run_folders"] == 1, seen.value  # its own


def test_a_program_that_switches_off_the_guards_reaches_nothing_of_the_host(
    jailed_pool: LocalSandbox,
    host_bait: dict[str, Any],
    sandbox_scene: dict[str, Any],
    normal_program: tuple[str, Any],
) -> None:
    source_file = REPO_ROOT / "tools" / "sandbox" / "local.py"
    attack = (
        SWITCH_OFF_GUARDS
        + f"""
import pwd

def attempt(action):
    try:
        return "done: " + str(action())[:80]
    except BaseException as error:
        return type(error).__name__

def connect_unix():
    cls = [c for c in object.__subclasses__() if c.__module__ == "_socket"][0]
    s = cls(1, 1)  # AF_UNIX, SOCK_STREAM
    s.connect({str(host_bait["socket"])!r})
    return "connected"

def fill_shm():
    written = 0
    with open("/dev/shm/fill", "wb") as sink:
        try:
            for _ in range(64):
                written += sink.write(b"0" * 2 ** 20)
        except OSError:
            pass
    return written

def solve(scene):
    return {{
        "guards_off": guards_are_off(),
        "passwd": attempt(lambda: open("/etc/passwd").read()),
        "users": attempt(lambda: [user.pw_name for user in pwd.getpwall()]),
        "source": attempt(lambda: open({str(source_file)!r}).read()),
        "secret": attempt(lambda: open({str(host_bait["secret"])!r}).read()),
        "escape": attempt(lambda: open({str(host_bait["escape"])!r}, "w").write("x")),
        "unix": attempt(connect_unix),
        "shm_bytes": fill_shm(),
        "leave": attempt(lambda: [open(p, "w").write("left") for p in
                                  ("/tmp/left", "/dev/shm/left", "left")]),
    }}
"""
    )
    result = jailed_pool.run(attack, sandbox_scene, memory_mb=256)
    assert result.ok, result
    outcome = result.value
    assert outcome["guards_off"] is True, "the exploit no longer works: update this test"
    for key in ("passwd", "source", "secret"):
        assert outcome[key] == "FileNotFoundError", outcome
    assert outcome["users"] in ("done: []", "KeyError"), outcome
    # outcome["escape"]: the write may succeed, into the jail's private /tmp
    assert outcome["unix"] in ("FileNotFoundError", "ConnectionRefusedError"), outcome
    assert outcome["shm_bytes"] <= SCRATCH_MB * 2**20, outcome
    assert not host_bait["escape"].exists()
    with pytest.raises(BlockingIOError):
        host_bait["listener"].accept()
    assert host_bait["token"] not in f"{result.stdout}{result.stderr}{result.value}"
    _healthy(jailed_pool, sandbox_scene, normal_program)
    _nothing_left(jailed_pool, sandbox_scene)


def test_the_run_folder_has_a_disk_quota(
    jailed_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    started = time.monotonic()
    result = jailed_pool.run(
        SWITCH_OFF_GUARDS + "def solve(scene):\n    written = 0\n    try:\n"
        "        for n in range(1024):  # 1 GiB, 1 MiB at a time, 2 MiB per file\n"
        "            with open(f'f{n // 2}', 'ab') as f:\n"
        "                written += f.write(b'0' * 2 ** 20)\n"
        "    except OSError as error:\n        return [written, error.errno]\n"
        "    return [written, 0]",
        sandbox_scene,
        timeout_s=20,
    )
    assert result.ok, result
    written, errno_code = result.value
    assert written <= RUN_MB * 2**20 and errno_code != 0, result.value
    assert time.monotonic() - started < 10
    _healthy(jailed_pool, sandbox_scene, normal_program)
    _nothing_left(jailed_pool, sandbox_scene)


def test_no_run_can_find_an_earlier_runs_data_anywhere_in_its_memory(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    """With or without the jail: runs fork from a zygote that never held a job (before it,
    the worker's loop still held the previous reply, and this test found it twice)."""
    head, tail = "QZXW" + secrets.token_hex(4), secrets.token_hex(4) + "WXZQ"
    marked_scene = {**sandbox_scene, "objects": [dict(sandbox_scene["objects"][0])]}
    marked_scene["objects"][0]["category"] = head + tail
    first = sandbox_pool.run(
        f"def solve(scene):\n    print({head!r} + {tail!r})\n    return {head!r} + {tail!r}",
        marked_scene,
    )
    assert first.value == head + tail, first
    # Every readable mapping of the run's process, read through numpy (no audit event), and
    # every frame up the stack: the marker (its two halves adjacent) must be nowhere.
    scan = f"""
import sys
import numpy as np

class _Raw:
    def __init__(self, address, size):
        self.__array_interface__ = {{
            "data": (address, True), "shape": (size,), "typestr": "|u1", "version": 3}}

def solve(scene):
    head, tail = {head!r}.encode(), {tail!r}.encode()
    regions = []
    for line in open("/proc/self/maps").read().splitlines():
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ""
        if fields[1][0] != "r" or not (name == "" or name in ("[heap]", "[stack]")):
            continue  # files mapped from disk hold no run's data (and may fault past EOF)
        start, end = (int(x, 16) for x in fields[0].split("-"))
        regions.append((start, end))
    hits, scanned, step = 0, 0, 1 << 22
    for start, end in regions:
        memory = np.asarray(_Raw(start, end - start))
        for offset in range(0, end - start, step):
            chunk = memory[offset : offset + step + 32].tobytes()
            at = chunk.find(head)
            while at != -1:
                hits += chunk[at + len(head) : at + len(head) + len(tail)] == tail
                at = chunk.find(head, at + 1)
        scanned += end - start
    frames, frame = [], sys._getframe()
    while frame is not None:
        frames.append(repr(frame.f_locals)[:100000])
        frame = frame.f_back
    return [hits, scanned, (head + tail).decode() in "".join(frames)]
"""
    second = sandbox_pool.run(scan, sandbox_scene, timeout_s=30, memory_mb=512)
    assert second.ok, second
    hits, scanned, in_frames = second.value
    assert scanned > 20 * 2**20, "the scan did not cover the preloaded interpreter's heap"
    assert hits == 0 and in_frames is False, second.value
    _healthy(sandbox_pool, sandbox_scene, normal_program)


def test_cleanup_copes_with_deep_trees_many_files_and_locked_folders(
    sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    pool = LocalSandbox(workers=1).start()
    root = pool._root
    try:
        result = pool.run(
            "import os\n"
            "def solve(scene):\n"
            "    for i in range(2000):\n        open(f'file{i}', 'w').close()\n"
            "    fd = os.open('.', os.O_RDONLY)\n"
            "    for _ in range(3000):  # 180 kB of path: far past PATH_MAX\n"
            "        os.mkdir('d' * 60, dir_fd=fd)\n"
            "        inner = os.open('d' * 60, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)\n"
            "        os.close(fd)\n        fd = inner\n"
            "        os.close(os.open('f', os.O_WRONLY | os.O_CREAT, dir_fd=fd))\n"
            "    os.fchmod(fd, 0)\n    return 'made'",
            sandbox_scene,
            timeout_s=30,
        )
        assert result.value == "made", result.error_message
        _healthy(pool, sandbox_scene, normal_program)
        if pool.isolation["filesystem_jail"]:
            _nothing_left(pool, sandbox_scene)
        else:
            assert list(Path(pool._runs_root).iterdir()) == []
    finally:
        pool.close()  # never raises
    assert not Path(root).exists()


def test_close_never_raises_even_when_the_pool_folder_is_odd(tmp_path: Path) -> None:
    pool = LocalSandbox(workers=1, isolation="none")
    locked = Path(pool._runs_root) / "locked"
    (locked / "inner").mkdir(parents=True)
    os.chmod(locked, 0)
    pool.close()
    pool.close()
    assert not Path(pool._root).exists()


def test_pool_folders_of_killed_hosts_are_removed_at_the_next_start(tmp_path: Path) -> None:
    host = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tools.sandbox import LocalSandbox\n"
            "pool = LocalSandbox(workers=1).start()\n"
            "print(pool._root, flush=True)\n"
            "import time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
    )
    assert host.stdout is not None
    left_behind = Path(host.stdout.readline().decode().strip())
    host.kill()
    host.wait(timeout=10)
    assert left_behind.is_dir() and left_behind.parent == tmp_path
    legacy = tmp_path / "ouroboros-sandbox-legacy"  # no lock: not ours to judge
    legacy.mkdir()
    alive = PoolFolder(parent=str(tmp_path))  # the next start sweeps the dead host's folder
    try:
        assert not left_behind.exists()
        assert remove_stale_pool_folders(str(tmp_path)) == []  # a live pool's folder is kept
        assert alive.path.is_dir() and legacy.is_dir()
    finally:
        alive.release()
    assert not alive.path.exists()
    assert stat.S_ISDIR(os.stat(tmp_path).st_mode)


def test_a_program_error_message_never_kills_the_worker(
    sandbox_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    result = sandbox_pool.run(
        "def solve(scene):\n    raise ValueError('lone \\udc80 surrogate ' * 100)", sandbox_scene
    )
    assert result.error_kind is ErrorKind.EXCEPTION, result
    result.model_dump_json()  # the host can always serialise it
    _healthy(sandbox_pool, sandbox_scene, normal_program)


def test_c_modules_without_audit_events_read_no_host_files(
    jailed_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    """pwd and grp read /etc through libc with no audit event: the guards cannot see them,
    so only the jail (which has no /etc/passwd or /etc/group) keeps the host's users hidden."""
    result = jailed_pool.run(
        "import grp, os, pwd\n"
        "def solve(scene):\n"
        "    return [[u.pw_name for u in pwd.getpwall()], [g.gr_name for g in grp.getgrall()],\n"
        "            os.uname().nodename]",
        sandbox_scene,
    )
    assert result.ok, result
    users, groups, hostname = result.value
    assert users == [] and groups == [], result.value
    assert hostname == "sandbox"
    _healthy(jailed_pool, sandbox_scene, normal_program)


def test_seccomp_refuses_kernel_surface_a_program_never_needs(
    jailed_pool: LocalSandbox, sandbox_scene: dict[str, Any], normal_program: tuple[str, Any]
) -> None:
    if not jailed_pool.isolation["seccomp"]:
        pytest.skip("no seccomp table for this machine's architecture")
    result = jailed_pool.run(
        SWITCH_OFF_GUARDS + "import ctypes\n"
        "def solve(scene):\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    calls = {'unshare': (272, 0), 'ptrace': (101, 0, 0, 0, 0),\n"
        "             'process_vm_readv': (310, 1, 0, 0, 0, 0, 0), 'bpf': (321, 0, 0, 0),\n"
        "             'getpid': (39,)}\n"
        "    out = {}\n"
        "    for name, (number, *args) in calls.items():\n"
        "        ctypes.set_errno(0)\n"
        "        out[name] = [libc.syscall(number, *args), ctypes.get_errno()]\n"
        "    return out",
        sandbox_scene,
    )
    assert result.ok, result
    eperm = [-1, 1]
    for name in ("unshare", "ptrace", "process_vm_readv", "bpf"):
        assert result.value[name] == eperm, result.value
    assert result.value["getpid"][0] > 0, result.value
    _healthy(jailed_pool, sandbox_scene, normal_program)
