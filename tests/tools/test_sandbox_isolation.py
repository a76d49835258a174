"""Choosing how workers are launched: probing, command lines, clear errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from scenes.errors import UserError
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
        assert (path, path) in binds
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
