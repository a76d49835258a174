"""The interpreter a worker runs programs from: its settings, import path and preloads.

Shared by the worker (which prepares itself for `--once`) and the zygote (which prepares
itself before it forks any run), so neither imports the other. Standard library only, besides
the libraries it preloads: this folder ships into remote sandboxes.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from . import child

PRELOADED_MODULES = (
    "numpy",
    "scipy",
    "shapely",
    "geometry",
    "math",
    "cmath",
    "statistics",
    "itertools",
    "functools",
    "collections",
    "collections.abc",
    "heapq",
    "bisect",
    "fractions",
    "decimal",
    "random",
    "re",
    "json",
    "string",
    "typing",
    "dataclasses",
    "enum",
    "operator",
    "copy",
    "numbers",
    "array",
    "time",
    "datetime",
    "socket",
    "threading",
    "traceback",
)
REQUIRED_MODULES = ("numpy", "geometry")


@dataclass
class WorkerSettings:
    """What the host tells a worker; sent as JSON on its command line."""

    runs_root: str
    library_dir: str
    run_uid: int | None = None
    run_gid: int | None = None
    max_output_bytes: int = 64 * 1024
    max_value_bytes: int = 1024 * 1024
    max_open_files: int = 64
    max_file_size_bytes: int = 16 * 1024 * 1024
    guards: bool = True
    read_roots: list[str] = field(default_factory=list)
    private_dirs: list[str] = field(default_factory=list)  # emptied after every run
    host_pid_namespace: str = ""  # to tell whether the worker runs in a new one

    @classmethod
    def from_json(cls, text: str) -> WorkerSettings:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


def prepare_interpreter(settings: WorkerSettings) -> dict[str, Any]:
    """Restrict imports to the Python installation and the library, then preload."""
    prefixes = {
        os.path.realpath(p)
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    }
    library = os.path.realpath(settings.library_dir)
    sys.path[:] = [library] + [
        p for p in sys.path if any(os.path.realpath(p).startswith(root) for root in prefixes)
    ]
    # Editable installs hook the import system to reach the project's source tree: drop them.
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in _module_of(f).lower()]
    sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in repr(h).lower()]
    sys.path_importer_cache.clear()
    for name in PRELOADED_MODULES:
        try:
            __import__(name)
        except ImportError:
            if name in REQUIRED_MODULES:
                raise
    child.load_libc()
    settings.read_roots = sorted({library, *prefixes})
    if settings.run_uid is not None and not _can_switch_user(settings):
        settings.run_uid = settings.run_gid = None
    gc.freeze()  # the collector in a run need not walk (and copy) the preloaded objects
    with open("/proc/net/dev") as interfaces:
        names = [line.split(":")[0].strip() for line in interfaces.readlines()[2:]]
    return {
        "ready": True,
        "pid": os.getpid(),
        "uid": os.getuid(),
        "run_uid": settings.run_uid,
        "pid_namespace": _in_new_pid_namespace(settings),
        "network_interfaces": [name for name in names if name != "lo"],
    }


def _in_new_pid_namespace(settings: WorkerSettings) -> bool:
    try:
        ours = os.readlink("/proc/self/ns/pid")
    except OSError:
        ours = ""
    if settings.host_pid_namespace and ours:
        return ours != settings.host_pid_namespace
    return os.getpid() == 1


def _module_of(finder: Any) -> str:
    """Finders are registered as classes or as instances."""
    return str(getattr(finder if isinstance(finder, type) else type(finder), "__module__", ""))


def _can_switch_user(settings: WorkerSettings) -> bool:
    """Whether runs can drop to the configured user (not inside a user namespace, say)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            gid = settings.run_gid if settings.run_gid is not None else settings.run_uid
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(settings.run_uid, settings.run_uid, settings.run_uid)
            code = 0
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
