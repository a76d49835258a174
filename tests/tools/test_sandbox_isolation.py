"""Choosing how workers are launched: probing, command lines, clear errors."""

from __future__ import annotations

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
    launcher = isolation.choose_launcher("auto", "/tmp")
    assert launcher.name in isolation.LAUNCHERS
    assert isolation.probe(launcher.name) == ""


def test_a_missing_launcher_is_a_clear_error_and_auto_falls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"bwrap is not installed.*isolation='auto'"):
        isolation.choose_launcher("bwrap", "/tmp")
    assert isolation.choose_launcher("auto", "/tmp").name == "none"
    with pytest.raises(UserError, match="choose one of auto"):
        isolation.choose_launcher("docker", "/tmp")


def test_bwrap_gives_a_read_only_root_and_keeps_root_capabilities_only_for_root() -> None:
    as_user = isolation.bwrap_prefix("/tmp/pool", is_root=False)
    for flag in ("--unshare-all", "--die-with-parent", "--ro-bind", "--tmpfs"):
        assert flag in as_user
    assert as_user[as_user.index("--bind") + 1 : as_user.index("--bind") + 3] == (
        "/tmp/pool",
        "/tmp/pool",
    )
    assert "--cap-add" not in as_user and as_user[-1] == "--"
    as_root = isolation.bwrap_prefix("/tmp/pool", is_root=True)
    assert as_root.count("--cap-add") == len(isolation.ROOT_WORKER_CAPABILITIES)


def test_unshare_maps_a_user_namespace_only_when_not_root() -> None:
    assert "--user" not in isolation.unshare_prefix(is_root=True)
    as_user = isolation.unshare_prefix(is_root=False)
    assert "--user" in as_user and "--map-root-user" in as_user
    for flag in ("--pid", "--net", "--mount-proc", "--kill-child", "--fork"):
        assert flag in as_user
