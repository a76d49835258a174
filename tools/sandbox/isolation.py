"""How local workers are launched: inside new Linux namespaces when the machine allows it.

Three launchers, strongest first. `bwrap` (bubblewrap) gives new user, pid, network, ipc and
uts namespaces, a read-only view of the file system with a private /tmp, and dies with its
parent. `unshare` (util-linux) gives new pid, network, mount (private /proc), ipc and uts
namespaces, plus a user namespace when not root; the file system stays the host's. `none`
starts the worker directly. `auto` probes them in that order, once per process, and takes the
first that can start a process here (CI machines may have neither).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache

from scenes.errors import UserError

LAUNCHERS = ("bwrap", "unshare", "none")
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Launcher:
    """A command prefix that puts the worker into its namespaces."""

    name: str
    prefix: tuple[str, ...] = ()

    def command(self, worker_command: list[str]) -> list[str]:
        return [*self.prefix, *worker_command]


# bwrap drops every capability by default; a root worker keeps the few it needs to hand each
# run its own uid (setuid/setgid), to prepare and remove run folders owned by that uid
# (chown, dac_override, fowner) and to kill its runs (kill). Runs lose them at the uid switch.
ROOT_WORKER_CAPABILITIES = (
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_KILL",
)


def bwrap_prefix(writable_dir: str, is_root: bool) -> tuple[str, ...]:
    """Read-only root, private /tmp, `writable_dir` (the pool's folder) bound read-write."""
    capabilities = [arg for cap in ROOT_WORKER_CAPABILITIES for arg in ("--cap-add", cap)]
    return (
        "bwrap",
        "--die-with-parent",
        "--unshare-all",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--bind",
        writable_dir,
        writable_dir,
        *(capabilities if is_root else ()),
        "--",
    )


def unshare_prefix(is_root: bool) -> tuple[str, ...]:
    user = () if is_root else ("--user", "--map-root-user")
    return (
        "unshare",
        "--fork",
        "--kill-child",
        "--pid",
        "--mount-proc",
        "--net",
        "--ipc",
        "--uts",
        *user,
        "--",
    )


def _prefix_for(name: str, writable_dir: str) -> tuple[str, ...]:
    if name == "bwrap":
        return bwrap_prefix(writable_dir, os.geteuid() == 0)
    if name == "unshare":
        return unshare_prefix(os.geteuid() == 0)
    return ()


@cache
def probe(name: str) -> str:
    """'' when `name` can start a process here, else why not (cached per process)."""
    if name == "none":
        return ""
    if shutil.which(name) is None:
        return f"{name} is not installed"
    true = shutil.which("true") or "/bin/true"
    try:
        completed = subprocess.run(
            [*_prefix_for(name, tempfile.gettempdir()), true],
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{name} could not start: {error}"
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()[:300]
        return f"{name} cannot create namespaces here: {detail or completed.returncode}"
    return ""


def choose_launcher(preference: str, writable_dir: str) -> Launcher:
    """The launcher for `preference` ('auto' or one of LAUNCHERS); a clear error if unusable."""
    if preference == "auto":
        for name in LAUNCHERS:
            if not probe(name):
                return Launcher(name, _prefix_for(name, writable_dir))
    if preference not in LAUNCHERS:
        raise UserError(
            f"unknown sandbox isolation {preference!r}; choose one of auto, {', '.join(LAUNCHERS)}"
        )
    problem = probe(preference)
    if problem:
        raise UserError(
            f"isolation={preference!r} is not available: {problem}. "
            "Use isolation='auto' to take the strongest launcher this machine supports."
        )
    return Launcher(preference, _prefix_for(preference, writable_dir))
