"""Choosing how workers are launched: probing, command lines, clear errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from common.errors import UserError
from tools.sandbox import isolation


@pytest.fixture(autouse=True)
def fresh_probes() -> Iterator[None]:
    isolation.probe.cache_clear()
    yield
    isolation.probe.cache_clear()


def test_auto_takes_a_launcher_that_works_here() -> None:
    launcher = isolation.choose_launcher("auto", sys.executable, "/tmp/library")
    assert launcher.name in isolation.LAUNCHERS
    assert isolation.probe(launcher.name, sys.executable) == ""


def test_a_missing_launcher_is_a_clear_error_and_auto_falls_back_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    isolation.warn_without_jail.cache_clear()
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"bwrap is not installed.*isolation='auto'"):
        isolation.choose_launcher("bwrap", sys.executable, "/tmp/library")
    with pytest.warns(isolation.IsolationWarning, match="WITHOUT FILE-SYSTEM JAIL.*bubblewrap"):
        assert isolation.choose_launcher("auto", sys.executable, "/tmp/library").name == "none"
    with pytest.raises(UserError, match="choose one of auto"):
        isolation.choose_launcher("docker", sys.executable, "/tmp/library")
    isolation.warn_without_jail.cache_clear()


def _mounts(prefix: tuple[str, ...], flag: str) -> list[tuple[str, str]]:
    return [(prefix[i + 1], prefix[i + 2]) for i, arg in enumerate(prefix) if arg == flag]


def test_bwrap_jail_shows_only_the_interpreter_libraries_and_library_folder() -> None:
    read_only = isolation.jail_read_only_paths(sys.executable)
    as_user = isolation.bwrap_prefix(read_only, "/tmp/pool/lib", is_root=False)
    binds = _mounts(as_user, "--ro-bind")
    assert ("/", "/") not in binds, "the host's root must not be visible"
    assert ("/tmp/pool/lib", isolation.JAIL_LIBRARY) in binds
    for path in read_only:
        assert (path, isolation.jail_path(path)) in binds
    assert os.path.realpath(sys.base_prefix) in read_only
    assert not [b for b in binds if b[0].startswith(("/etc/passwd", "/home", "/work/wt"))]
    for flag in ("--unshare-all", "--cap-drop"):
        assert flag in as_user
    assert "--cap-add" not in as_user and as_user[-1] == "--"
    tmpfs = [as_user[i + 1] for i, arg in enumerate(as_user) if arg == "--tmpfs"]
    assert set(tmpfs) == {"/tmp", "/dev/shm", isolation.JAIL_RUNS_ROOT}
    assert as_user.count("--size") == 3, "every writable mount is size-limited"


def test_bwrap_as_root_keeps_few_capabilities_and_no_user_namespace() -> None:
    as_root = isolation.bwrap_prefix(["/usr"], "/tmp/pool/lib", is_root=True)
    assert as_root.count("--cap-add") == len(isolation.ROOT_WORKER_CAPABILITIES)
    assert "--unshare-all" not in as_root and "--unshare-user" not in as_root
    assert as_root.index("--cap-drop") < as_root.index("--cap-add")
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc"):
        assert flag in as_root


def test_unshare_maps_a_user_namespace_only_when_not_root() -> None:
    assert "--user" not in isolation.unshare_prefix(is_root=True)
    as_user = isolation.unshare_prefix(is_root=False)
    assert "--user" in as_user and "--map-root-user" in as_user
    for flag in ("--pid", "--net", "--mount-proc", "--kill-child", "--fork"):
        assert flag in as_user


def test_seccomp_filter_refuses_listed_calls_and_x32_and_allows_the_rest() -> None:
    import struct

    from tools.sandbox import seccomp

    assert seccomp.filter_program("aarch64") is None
    program = seccomp.filter_program("x86_64")
    assert program is not None and len(program) % 8 == 0
    code = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]

    def verdict(arch: int, number: int) -> int:
        """Run the classic-BPF program on (arch, nr) as the kernel would."""
        pc, accumulator = 0, 0
        while True:
            op, jump_true, jump_false, k = code[pc]
            if op == seccomp.BPF_LD_W_ABS:
                accumulator = arch if k == seccomp.ARCH_OFFSET else number
            elif op == seccomp.BPF_RET_K:
                return k
            elif op in (seccomp.BPF_JEQ_K, seccomp.BPF_JGE_K):
                taken = accumulator == k if op == seccomp.BPF_JEQ_K else accumulator >= k
                pc += jump_true if taken else jump_false
            pc += 1

    refuse = seccomp.SECCOMP_RET_ERRNO | seccomp.EPERM
    for number in seccomp.REFUSED_X86_64.values():
        assert verdict(seccomp.AUDIT_ARCH_X86_64, number) == refuse
    for allowed in (0, 1, 2, 39, 56, 57, 59, 231):  # read, write, open, getpid, clone, ...
        assert verdict(seccomp.AUDIT_ARCH_X86_64, allowed) == seccomp.SECCOMP_RET_ALLOW
    assert verdict(seccomp.AUDIT_ARCH_X86_64, seccomp.X32_SYSCALL_BIT + 1) == refuse
    assert verdict(0x40000003, 1) == seccomp.SECCOMP_RET_KILL_PROCESS  # i386 ABI


def test_an_interpreter_below_tmp_is_relocated_so_the_private_tmp_stays_empty() -> None:
    """A clone checked out under /tmp (its .venv too) must not show up in the jail's /tmp."""
    prefix = isolation.bwrap_prefix(["/tmp/ci/main/.venv"], "/tmp/pool/lib", is_root=True)
    binds = _mounts(prefix, "--ro-bind")
    relocated = isolation.JAIL_RELOCATED + "/tmp/ci/main/.venv"
    assert ("/tmp/ci/main/.venv", relocated) in binds
    assert not [b for b in binds if b[1].startswith("/tmp")]
    assert isolation.jail_path("/usr/local") == "/usr/local"
    launcher = isolation.Launcher("bwrap", prefix)
    assert launcher.command(["/tmp/ci/main/.venv/bin/python", "-I"])[-2:] == [
        relocated + "/bin/python",
        "-I",
    ]
