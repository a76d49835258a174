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

import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from . import child
from .cleanup import empty_folder, remove_tree
from .interpreter import WorkerSettings, prepare_interpreter
from .supervise import ForkedChild, RunProcess, supervise
from .zygote import Zygote, ZygoteLost

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
