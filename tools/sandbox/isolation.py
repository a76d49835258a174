"""How local workers are launched: inside a bubblewrap jail when the machine allows it.

Three launchers, strongest first. `bwrap` (bubblewrap, Debian's `bubblewrap` package) puts
the worker in new pid, network, ipc, uts and cgroup namespaces (plus a user namespace when
not root) with a file system of its own, built from nothing: the Python installation, the
system's shared libraries and the sandbox's library folder, all read-only, and size-limited
tmpfs mounts for the run folders, /tmp and /dev/shm, under a seccomp filter (seccomp.py).
Nothing else of the host exists in
there (no /etc/passwd, no project sources, no host /tmp, no socket files), so a program that
has switched off every in-process guard still reads and writes nothing of the host.
`unshare` (util-linux) gives new pid, network, mount (private /proc), ipc and uts namespaces,
plus a user namespace when not root; the file system stays the host's. `none` starts the
worker directly. `auto` probes them in that order, once per process, takes the first that
can start a Python here, and warns loudly when that is not bwrap.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath

from common.errors import UserError

from .seccomp import filter_program

LAUNCHERS = ("bwrap", "unshare", "none")
PROBE_TIMEOUT_S = 20.0
JAIL_RUNS_ROOT = "/sandbox/runs"
JAIL_LIBRARY = "/sandbox/lib"
#: Interpreter folders that live below a jail-private folder (a clone checked out in /tmp,
#: its .venv included) appear here instead, so the private /tmp stays empty.
JAIL_RELOCATED = "/sandbox/host"
JAIL_PRIVATE_DIRS = ("/tmp", "/dev/shm")
# What a jailed Python needs besides its own installation: the dynamic loader, the shared
# libraries, the loader's cache and the time zone data. Absent paths are skipped.
SYSTEM_READ_ONLY = (
    "/usr/lib",
    "/usr/lib64",
    "/usr/lib32",
    "/lib",
    "/lib64",
    "/lib32",
    "/usr/share/zoneinfo",
    "/etc/ld.so.cache",
    "/etc/localtime",
)
logger = logging.getLogger(__name__)


class IsolationWarning(UserWarning):
    """The sandbox runs without its file-system jail: programs can read host files."""


@dataclass(frozen=True)
class JailLimits:
    """Sizes of the jail's writable tmpfs mounts (RAM, counted by the kernel, not by RLIMIT_AS)."""

    run_folder_mb: int = 64
    tmp_mb: int = 16
    shm_mb: int = 16


@dataclass(frozen=True)
class Launcher:
    """A command prefix that puts the worker into its namespaces, and what it provides."""

    name: str
    prefix: tuple[str, ...] = ()
    runs_root: str | None = None  # where run folders live inside the jail (None: the host's)
    private_dirs: tuple[str, ...] = field(default=())  # jail-private, emptied after each run
    library_dir: str | None = None  # where the library folder appears (None: where it is)
    seccomp: bytes | None = None  # compiled filter bwrap loads before starting the worker

    def command(self, worker_command: list[str]) -> list[str]:
        return [*self.prefix, *self._inside(worker_command)]

    def _inside(self, worker_command: list[str]) -> list[str]:
        if self.name != "bwrap" or not worker_command:  # only the jail moves paths (jail_path)
            return list(worker_command)
        return [jail_path(worker_command[0]), *worker_command[1:]]

    def open_command(self, worker_command: list[str]) -> tuple[list[str], tuple[int, ...]]:
        """The command and the descriptors it needs passed (the seccomp filter's pipe);
        the caller closes them once the process has started."""
        if self.seccomp is None:
            return self.command(worker_command), ()
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, self.seccomp)  # a few hundred bytes: fits the pipe buffer
        finally:
            os.close(write_end)
        end = self.prefix.index("--")
        prefix = [*self.prefix[:end], "--seccomp", str(read_end), *self.prefix[end:]]
        return [*prefix, *self._inside(worker_command)], (read_end,)


def jail_path(host_path: str) -> str:
    """Where a host path of the interpreter appears in the jail: the same place, unless it
    lies below a jail-private folder (then under JAIL_RELOCATED)."""
    for private in JAIL_PRIVATE_DIRS:
        if host_path == private or host_path.startswith(private + "/"):
            return JAIL_RELOCATED + host_path
    return host_path


# A root worker keeps the few capabilities it needs to hand each run its own uid
# (setuid/setgid), to prepare and remove run folders owned by that uid (chown,
# dac_override, fowner) and to kill its runs (kill). Runs lose them at the uid switch.
ROOT_WORKER_CAPABILITIES = (
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_KILL",
)
# As root, no user namespace: it would map uid 0 only, and runs could not switch uid.
ROOT_NAMESPACES = (
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
)


@cache
def python_prefixes(python: str) -> tuple[str, ...]:
    """The real paths of the installation (and virtual environment) of `python`."""
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    else:
        code = "import sys,json;print(json.dumps([sys.prefix,sys.base_prefix,sys.exec_prefix]))"
        try:
            answer = subprocess.run(
                [python, "-I", "-c", code], capture_output=True, timeout=PROBE_TIMEOUT_S
            )
            found = json.loads(answer.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired) as error:
            raise UserError(f"cannot ask {python} where it is installed: {error}") from error
    return tuple(sorted({os.path.realpath(p) for p in found}))


def jail_read_only_paths(python: str) -> list[str]:
    """Host paths of the interpreter the jail shows read-only, at the same place."""
    paths = list(python_prefixes(python))
    # The interpreter named by `python` may be a link out of its prefix (a virtualenv's).
    paths.append(os.path.dirname(os.path.realpath(python)))
    unique: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == kept or path.startswith(kept.rstrip("/") + "/") for kept in unique):
            unique.append(path)
    return unique


def _system_mounts() -> list[str]:
    """Library folders as on the host: a symlink stays a symlink (merged /usr)."""
    arguments: list[str] = []
    for path in SYSTEM_READ_ONLY:
        if os.path.islink(path) and os.path.dirname(path) == "/":
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            arguments += ["--ro-bind", path, path]
    return arguments


def _traversable_parents(paths: list[str]) -> list[str]:
    """bwrap makes missing parent folders 0700 when root, which the run's uid could not
    enter: create them first, 0755 (they are empty but for what is mounted below)."""
    parents = {str(parent) for path in paths for parent in PurePosixPath(path).parents}
    parents.discard("/")
    ordered = sorted(parents, key=lambda folder: (folder.count("/"), folder))
    return [arg for folder in ordered for arg in ("--perms", "0755", "--dir", folder)]


def bwrap_prefix(
    read_only: list[str], library_dir: str, is_root: bool, limits: JailLimits | None = None
) -> tuple[str, ...]:
    """A jail built from nothing: `read_only` paths, system libraries, the library folder
    at JAIL_LIBRARY, and private size-limited tmpfs mounts."""
    limits = limits or JailLimits()
    mib = 1024 * 1024
    if is_root:
        namespaces = [*ROOT_NAMESPACES, "--cap-drop", "ALL"]
        namespaces += [arg for cap in ROOT_WORKER_CAPABILITIES for arg in ("--cap-add", cap)]
    else:
        namespaces = ["--unshare-all", "--cap-drop", "ALL"]
    binds = [arg for path in read_only for arg in ("--ro-bind", path, jail_path(path))]
    inside = [jail_path(path) for path in read_only]
    mount_points = [*inside, *SYSTEM_READ_ONLY, JAIL_LIBRARY, JAIL_RUNS_ROOT]
    # No --die-with-parent: its signal fires when the *thread* that started bwrap ends, and
    # workers are (re)started from run_many's short-lived threads. A worker ends on its own
    # when the host's pipe closes (host exit or SIGKILL included), and bwrap with it.
    return (
        "bwrap",
        *namespaces,
        "--hostname",
        "sandbox",
        *_traversable_parents(mount_points),
        *_system_mounts(),
        *binds,
        "--ro-bind",
        library_dir,
        JAIL_LIBRARY,
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--perms",
        "1777",
        "--size",
        str(limits.tmp_mb * mib),
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--size",
        str(limits.shm_mb * mib),
        "--tmpfs",
        "/dev/shm",
        "--perms",
        "0711",
        "--size",
        str(limits.run_folder_mb * mib),
        "--tmpfs",
        JAIL_RUNS_ROOT,
        "--chdir",
        "/",
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


def make_launcher(
    name: str, python: str, library_dir: str, limits: JailLimits | None = None
) -> Launcher:
    is_root = os.geteuid() == 0
    if name == "bwrap":
        prefix = bwrap_prefix(jail_read_only_paths(python), library_dir, is_root, limits)
        return Launcher(
            name, prefix, JAIL_RUNS_ROOT, JAIL_PRIVATE_DIRS, JAIL_LIBRARY, filter_program()
        )
    if name == "unshare":
        return Launcher(name, unshare_prefix(is_root))
    return Launcher(name)


@cache
def probe(name: str, python: str = sys.executable) -> str:
    """'' when `name` can start `python` here, else why not (cached per process)."""
    if name == "none":
        return ""
    if shutil.which(name) is None:
        return f"{name} is not installed"
    library = os.path.dirname(os.path.abspath(__file__))
    launcher = make_launcher(name, python, library)
    command, descriptors = launcher.open_command([python, "-I", "-c", "pass"])
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            pass_fds=descriptors,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{name} could not start: {error}"
    finally:
        for fd in descriptors:
            os.close(fd)
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()[:300]
        return f"{name} cannot create its namespaces here: {detail or completed.returncode}"
    return ""


def choose_launcher(
    preference: str, python: str, library_dir: str, limits: JailLimits | None = None
) -> Launcher:
    """The launcher for `preference` ('auto' or one of LAUNCHERS); a clear error if unusable."""
    if preference == "auto":
        for name in LAUNCHERS:
            if not probe(name, python):
                if name != "bwrap":
                    warn_without_jail(probe("bwrap", python), name)
                return make_launcher(name, python, library_dir, limits)
    if preference not in LAUNCHERS:
        raise UserError(
            f"unknown sandbox isolation {preference!r}; choose one of auto, {', '.join(LAUNCHERS)}"
        )
    problem = probe(preference, python)
    if problem:
        raise UserError(
            f"isolation={preference!r} is not available: {problem}. "
            "Use isolation='auto' to take the strongest launcher this machine supports."
        )
    return make_launcher(preference, python, library_dir, limits)


@cache
def warn_without_jail(why: str, fallback: str) -> None:
    """Once per process: without bwrap, only bypassable guards keep host files private."""
    message = (
        f"SANDBOX WITHOUT FILE-SYSTEM JAIL: {why}; falling back to isolation={fallback!r}. "
        "Programs can then read world-readable host files and write to /tmp and /dev/shm "
        "once they switch off the in-process guards. Install bubblewrap "
        "(apt-get install bubblewrap, or `make test` as root) before running untrusted "
        "programs."
    )
    logger.warning(message)
    warnings.warn(message, IsolationWarning, stacklevel=3)
