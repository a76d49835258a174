"""The worker: a warm zygote that forks one locked-down child per run and never runs user code.

Started by the host as ``python -I -c BOOTSTRAP LIBRARY_DIR --serve SETTINGS_JSON``. It imports
numpy, the geometry library and the standard math modules once, then reads one JSON job per
line on stdin, forks a child for it (see `child.py`), watches the child's output pipes under
the wall-clock limit, kills the child's whole process group when the run ends, removes the
run's private directory, and writes one JSON reply line on stdout. ``--once JOB_FILE`` runs a
single job the same way and prints its reply (used by remote sandboxes and the baseline).
Standard library only, besides the libraries it preloads.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import child
from .cleanup import empty_folder, remove_tree
from .supervise import ForkedChild, RunProcess, supervise
from .zygote import Zygote, ZygoteLost

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


Cleanup = Callable[[], None]


def run_job(
    header: Any, scene_json: bytes, forker: Callable[[list[int]], RunProcess], settings: Any
) -> tuple[dict[str, Any], Cleanup]:
    """Start a run of the job through `forker` and supervise it. Returns the reply at once
    and a cleanup (wait for the run, remove its files) to call after the reply is sent."""
    problem = _check_job(header)
    if problem:
        return {"kind": "sandbox_error", "message": problem}, _nothing
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="run-", dir=settings.runs_root)
    try:
        if settings.run_uid is not None:
            os.chown(workdir, settings.run_uid, settings.run_gid or settings.run_uid)
        job = json.dumps({**header, "workdir": workdir}).encode()
        job_bytes = job + b"\n" + scene_json.rstrip(b"\n") + b"\n"
        job_r, job_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        theirs = [job_r, out_w, err_w, res_w]
        try:
            process = forker(theirs)
        except BaseException:
            for fd in (job_w, out_r, err_r, res_r):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        deadline = started + float(header["timeout_s"])
        reply, _exited = supervise(
            process, out_r, err_r, res_r, deadline, header, settings, job_w, job_bytes
        )
    except BaseException:
        _clean_after_run(workdir, settings)
        raise

    def cleanup() -> None:
        process.wait()
        _clean_after_run(workdir, settings)

    return reply, cleanup


def _nothing() -> None:
    return None


def _check_job(job: Any) -> str:
    if not isinstance(job, dict):
        return "the job is not a JSON object"
    if not isinstance(job.get("program"), str):
        return "the job has no program string"
    timeout, memory = job.get("timeout_s"), job.get("memory_mb")
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        return f"timeout_s must be a number of seconds in (0, 3600], got {timeout!r}"
    if not isinstance(memory, int) or not 16 <= memory <= 1024 * 1024:
        return f"memory_mb must be an integer in [16, 1048576], got {memory!r}"
    return ""


def fork_directly(descriptors: list[int], settings: Any) -> ForkedChild:
    """Fork the run from this process (the one-shot mode, which never serves other jobs)."""
    pid = os.fork()
    if pid == 0:
        child.run_from_descriptors(descriptors, settings)
    return ForkedChild(pid)


def _clean_after_run(workdir: str, settings: Any) -> None:
    """Remove the run's folder and empty the jail's private /tmp and /dev/shm; whatever a
    program made there (deep trees, locked folders, many files) must not stop the worker."""
    problems = remove_tree(workdir)
    for folder in settings.private_dirs:
        problems += empty_folder(folder)
    if problems:
        print(f"cleanup after a run left: {problems[:3]}", file=sys.stderr, flush=True)


def _reap_orphans() -> None:
    """As PID 1 of a namespace the worker inherits any orphans: collect them."""
    while True:
        try:
            reaped, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if reaped == 0:
            return


def _write_line(fd: int, message: dict[str, Any]) -> None:
    view = memoryview(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    while view:
        view = view[os.write(fd, view) :]


def _protocol_descriptors() -> tuple[int, int]:
    """Move the host's pipes off fds 0 and 1 so nothing printed can corrupt the protocol."""
    job_in, reply_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)
    return job_in, reply_out


def serve(settings: WorkerSettings) -> None:
    """Jobs arrive as two lines: a JSON header (program, limits) and the scene's JSON."""
    job_in, reply_out = _protocol_descriptors()
    child.make_undumpable()  # it holds every job and reply: no same-uid run may trace it
    zygote = Zygote(settings, close_in_zygote=(job_in, reply_out))
    ready = zygote.ready_info
    _write_line(reply_out, ready)
    if not ready.get("ready"):
        return
    if ready.get("run_uid") is None:  # the zygote found it cannot switch users here
        settings.run_uid = settings.run_gid = None
    with os.fdopen(job_in, "rb") as jobs:
        for header_line in jobs:
            scene_json = jobs.readline()
            cleanup = _nothing
            try:
                reply, cleanup = run_job(json.loads(header_line), scene_json, zygote.fork, settings)
            except ZygoteLost as error:
                _write_line(reply_out, {"kind": "sandbox_error", "message": str(error)})
                break  # the host replaces a worker that ended
            except Exception as error:  # a bug here must not take the worker down
                reply = {"kind": "sandbox_error", "message": f"worker error: {error!r}"}
            _write_line(reply_out, reply)
            try:
                cleanup()
            except Exception as error:
                print(f"cleanup failed: {error!r}", file=sys.stderr, flush=True)
            _reap_orphans()
    zygote.stop()


def run_once(job_path: str, settings: WorkerSettings) -> None:
    """One job from a JSON file {program, scene, timeout_s, memory_mb}; reply on stdout."""
    try:
        prepare_interpreter(settings)
        with open(job_path, encoding="utf-8") as job_file:
            job = json.load(job_file)
        scene_json = json.dumps(job.pop("scene", None)).encode()
        reply, cleanup = run_job(
            job, scene_json, lambda fds: fork_directly(fds, settings), settings
        )
        cleanup()
    except Exception as error:
        reply = {
            "kind": "sandbox_error",
            "message": f"worker error: {type(error).__name__}: {error}",
        }
    sys.stdout.write(json.dumps(reply, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    """``--serve SETTINGS_JSON`` or ``--once JOB_FILE SETTINGS_JSON``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if len(argv) == 2 and argv[0] == "--serve":
        serve(WorkerSettings.from_json(argv[1]))
    elif len(argv) == 3 and argv[0] == "--once":
        run_once(argv[1], WorkerSettings.from_json(argv[2]))
    else:
        sys.exit("usage: --serve SETTINGS_JSON | --once JOB_FILE SETTINGS_JSON")
