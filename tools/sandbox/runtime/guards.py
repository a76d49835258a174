"""In-process guards, installed in the run's process just before the program loads.

An audit hook (PEP 578) refuses sockets, subprocesses, signals to other processes, ctypes,
writes outside the run's working directory and reads outside an allow-list (the Python
installation, the shipped library, the working directory, the run's own /proc entry).

These guards are defence in depth, not the boundary: CPython documents that audit hooks
cannot sandbox hostile code (C extensions and interpreter tricks can step around them). They
turn the common and the casual attempts into a clear `PermissionError`; the rlimits, the
unprivileged user id and the namespaces set up by the worker are what contain the rest.
Standard library only: this folder ships into remote sandboxes.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import PosixPath, PurePosixPath
from typing import Any

# Events refused outright (prefix match). Ground-truth programs compute on a scene; they have
# no reason to reach the network, start or signal processes, load native code or open pipes.
BLOCKED_EVENT_PREFIXES: tuple[str, ...] = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    "os.chroot",
    "os.chdir",
    "os.fchdir",
    "os.unshare",
    "os.setns",
    "os.link",
    "os.symlink",
    "pty.",
    "signal.pthread_kill",
    "ctypes.",
    "resource.setrlimit",
    "resource.prlimit",
    "sys.addaudithook",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "sqlite3.",
    "builtins.input",
    "webbrowser.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "imaplib.",
    "poplib.",
    "nntplib.",
    "telnetlib.",
)

# Events whose first argument is a path that will be changed: allowed only in the work dir.
WRITE_PATH_EVENTS: frozenset[str] = frozenset(
    {
        "os.mkdir",
        "os.remove",
        "os.rmdir",
        "os.rename",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.utime",
        "os.mkfifo",
        "os.mknod",
        "os.setxattr",
        "os.removexattr",
        "shutil.rmtree",
    }
)
READ_PATH_EVENTS: frozenset[str] = frozenset({"os.listdir", "os.scandir", "glob.glob"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
DEVICES_READABLE = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
EXTRA_READ_ROOTS = ("/etc/localtime", "/usr/share/zoneinfo")


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise PermissionError("network access is disabled in the sandbox")


def block_sockets() -> None:
    """Replace socket constructors, so even code holding the module gets a clear refusal."""
    import _socket

    for name in ("socket", "SocketType", "socketpair", "fromfd", "create_connection"):
        if hasattr(socket, name):
            setattr(socket, name, _refuse)
    for name in ("socket", "SocketType", "socketpair"):
        if hasattr(_socket, name):
            setattr(_socket, name, _refuse)
    socket.getaddrinfo = _refuse  # type: ignore[assignment]
    socket.create_server = _refuse  # type: ignore[assignment]


def make_audit_hook(
    workdir: str, read_roots: Iterable[str], own_pid: int
) -> Callable[[str, tuple[Any, ...]], None]:
    """The hook: refuse blocked events, confine writes to `workdir` and reads to the roots.

    Everything the hook calls is bound here, as closure variables, so that a program which
    patches builtins, `os.path` or this module afterwards does not change what the hook does.
    """
    _isinstance, _type, _len, _list, _reversed, _any, _str, _bytes, _int = (
        isinstance, type, len, list, reversed, any, str, bytes, int
    )  # fmt: skip
    _error = PermissionError
    lstat, readlink, getcwd, is_link = os.lstat, os.readlink, os.getcwd, stat.S_ISLNK
    stat_of, is_directory = os.stat, stat.S_ISDIR
    path_types = (PosixPath, PurePosixPath)
    write_flags = WRITE_FLAGS
    blocked = BLOCKED_EVENT_PREFIXES
    write_events = WRITE_PATH_EVENTS
    read_events = READ_PATH_EVENTS

    def resolve(path: str) -> str:
        """`realpath` from the captured system calls; a missing component ends resolution."""
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        pending = _list(_reversed(path.split("/")))
        resolved = ""
        links = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                resolved = resolved.rsplit("/", 1)[0]
                continue
            candidate = resolved + "/" + part
            try:
                symlink = is_link(lstat(candidate).st_mode)
            except OSError:  # does not exist (yet): the kernel resolves no further either
                resolved = candidate
                continue
            if not symlink:
                resolved = candidate
                continue
            links += 1
            if links > 40:
                return "\0symlink loop"
            target = readlink(candidate)
            if target.startswith("/"):
                resolved = ""
            pending.extend(_reversed(target.split("/")))
        return resolved or "/"

    def path_of(path: Any) -> str | None:
        """Only str, bytes and pathlib's own classes: another object's ``__fspath__`` could
        answer differently when the check and the open ask it."""
        if _isinstance(path, _int):
            return None
        if _type(path) in path_types:
            path = _str(path)
        if _isinstance(path, _bytes):
            path = path.decode("utf-8", "surrogateescape")
        if _type(path) is not _str:
            raise _error("paths in the sandbox must be str, bytes or pathlib paths")
        return resolve(path)

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        return _any(path == root or path.startswith(root + "/") for root in roots)

    def deny(what: str) -> None:
        raise _error(f"{what} is not allowed in the sandbox")

    write_roots = (resolve(workdir), "/dev/null")
    readable = (
        *write_roots,
        *(resolve(root).rstrip("/") for root in read_roots),
        f"/proc/{own_pid}",
        *DEVICES_READABLE,
        *EXTRA_READ_ROOTS,
    )

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event.startswith(blocked):
            deny(event)
        if event == "open":
            path = path_of(args[0])
            if path is None:
                return
            flags = args[2] if _len(args) > 2 and _isinstance(args[2], _int) else 0
            mode = args[1] if _len(args) > 1 and _isinstance(args[1], _str) else ""
            writing = (flags & write_flags) != 0 or _any(c in mode for c in "wax+")
            if writing and not inside(path, write_roots):
                deny(f"writing {path} (outside the run's working directory)")
            if not writing and not inside(path, readable):
                deny(f"reading {path}")
            if not inside(path, write_roots):
                # A directory descriptor would let a later `dir_fd=` call escape the check.
                try:
                    directory = is_directory(stat_of(path).st_mode)
                except OSError:
                    directory = False
                if directory:
                    deny(f"opening the directory {path}")
        elif event == "object.__setattr__" and _len(args) > 1 and args[1] == "__code__":
            deny("replacing a function's __code__")
        elif event in write_events or event in read_events:
            roots = write_roots if event in write_events else readable
            raw_paths = args[:2] if event == "os.rename" else args[:1]
            for raw in raw_paths:
                path = path_of(raw)
                if path is not None and not inside(path, roots):
                    deny(f"{event} on {path}")

    return hook


def install(workdir: str, read_roots: Iterable[str]) -> None:
    """Block sockets and add the audit hook; audit hooks cannot be removed once added."""
    block_sockets()
    sys.addaudithook(make_audit_hook(workdir, read_roots, os.getpid()))
