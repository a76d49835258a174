"""Watching one run's process: its output under the caps, the deadline, its end.

The worker calls `supervise` right after forking a run. Standard library only: this folder
ships into remote sandboxes.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import time
from typing import Any, Protocol

READ_CHUNK = 65536
DRAIN_AFTER_EXIT_S = 0.2


class RunProcess(Protocol):
    """The run's process as the supervisor sees it: forked here, or by the zygote."""

    pid: int

    def exit_fd(self) -> int | None:
        """A descriptor that becomes readable when the process has exited, if any."""

    def poll(self) -> int | None:
        """The wait status if the process has exited, else None (never blocks)."""

    def wait(self) -> int:
        """Block until the process has exited; its wait status."""


class ForkedChild:
    """A run forked by this process: reaped with waitpid, watched through a pidfd."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._pidfd = _pidfd(pid)

    def exit_fd(self) -> int | None:
        return self._pidfd

    def poll(self) -> int | None:
        return reap(self.pid, block=False)

    def wait(self) -> int:
        status = reap(self.pid, block=True)
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None
        return status or 0


def supervise(
    process: RunProcess,
    out_r: int,
    err_r: int,
    res_r: int,
    deadline: float,
    job: dict[str, Any],
    settings: Any,
    job_w: int | None = None,
    job_bytes: bytes = b"",
) -> tuple[dict[str, Any], bool]:
    """Feed the job to the child and collect its output under the caps and the deadline.

    Returns as soon as the child has written its reply and closed its pipes, without
    waiting for the kernel to tear the process down (the caller waits for it). The child's
    process group is SIGKILLed either way, so nothing it started outlives the run.
    """
    pid = process.pid
    caps = {
        out_r: settings.max_output_bytes,
        err_r: settings.max_output_bytes,
        res_r: settings.max_value_bytes + 65536,
    }
    names = {out_r: "stdout", err_r: "stderr", res_r: "its result channel"}
    buffers: dict[int, bytearray] = {fd: bytearray() for fd in caps}
    truncated = False
    stopped: dict[str, Any] | None = None
    status: int | None = None
    selector = selectors.DefaultSelector()
    for fd in caps:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    pending_job = memoryview(job_bytes)
    if job_w is not None:
        os.set_blocking(job_w, False)
        selector.register(job_w, selectors.EVENT_WRITE)
    pidfd = process.exit_fd()
    if pidfd is not None:
        selector.register(pidfd, selectors.EVENT_READ)
    open_fds = set(caps)
    drain_until: float | None = None
    try:
        while True:
            if status is None:
                status = process.poll()
                if status is not None and drain_until is None:
                    drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
            answered = buffers[res_r].endswith(b"\n")
            if not open_fds and (status is not None or answered):
                break
            now = time.monotonic()
            if drain_until is not None and now > drain_until:
                break  # exited, but something it left behind still holds a pipe
            if status is None and stopped is None and now >= deadline:
                _kill_group(pid)
                stopped = {
                    "kind": "timeout",
                    "message": f"the run took longer than the wall-clock limit of "
                    f"{float(job['timeout_s']):g} s",
                }
                status = process.wait()
                drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
                continue
            wait = (drain_until or deadline) - now
            if pidfd is None or status is not None:
                wait = min(wait, 0.01)
            for key, _ in selector.select(max(wait, 0.0)):
                fd = key.fd
                if fd == pidfd:  # the child exited: stop watching, reap on the next turn
                    selector.unregister(fd)
                    continue
                if fd == job_w:
                    pending_job = _feed(job_w, pending_job)
                    if not pending_job:
                        selector.unregister(job_w)
                        os.close(job_w)
                        job_w = None
                    continue
                try:
                    chunk = os.read(fd, READ_CHUNK)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(fd)
                    open_fds.discard(fd)
                    continue
                room = caps[fd] - len(buffers[fd])
                buffers[fd] += chunk[: max(room, 0)]
                if len(chunk) > room and stopped is None:
                    truncated = truncated or fd != res_r
                    _kill_group(pid)
                    stopped = {
                        "kind": "output_limit",
                        "message": f"the program wrote more than {caps[fd]} bytes to "
                        f"{names[fd]}; print less and return a short answer",
                    }
    finally:
        selector.close()
        for fd in (*caps, *([job_w] if job_w is not None else [])):
            with contextlib.suppress(OSError):
                os.close(fd)
        _kill_group(pid)  # the run and anything it left behind in its group
    reply = stopped or _reply_from_child(buffers[res_r], status, job)
    reply["stdout"] = buffers[out_r].decode("utf-8", "replace")
    reply["stderr"] = buffers[err_r].decode("utf-8", "replace")
    reply["output_truncated"] = truncated
    return reply, status is not None


def _feed(fd: int, pending: memoryview) -> memoryview:
    """Write what the pipe takes now; a child that stopped reading gets nothing more."""
    try:
        return pending[os.write(fd, pending) :]
    except BlockingIOError:
        return pending
    except OSError:  # the child closed its end (or died): the job is moot
        return pending[len(pending) :]


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def reap(pid: int, *, block: bool) -> int | None:
    try:
        reaped, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return 0
    return status if reaped == pid else None


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _reply_from_child(result: bytearray, status: int | None, job: dict[str, Any]) -> dict[str, Any]:
    """The child's own reply if it wrote one, else a description of how it died."""
    lines = [line for line in bytes(result).split(b"\n") if line.strip()]
    if lines:
        try:
            reply = json.loads(lines[-1])
        except ValueError:
            reply = None
        if isinstance(reply, dict) and isinstance(reply.get("kind"), str):
            return {key: reply[key] for key in ("kind", "value", "message") if key in reply}
    if status is None:
        return {"kind": "crashed", "message": "the run closed its result channel without a reply"}
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else ""
        if number == signal.SIGXCPU:
            return {
                "kind": "timeout",
                "message": f"the run used more CPU time than the limit for a "
                f"{float(job['timeout_s']):g} s run",
            }
        if number == signal.SIGKILL:
            return {
                "kind": "crashed",
                "message": "the run was killed by SIGKILL (the hard CPU-time limit or the "
                "kernel's out-of-memory killer)",
            }
        return {
            "kind": "crashed",
            "message": f"the run was killed by signal {name or number} (a crash in native "
            "code, e.g. via ctypes, a C stack overflow from deep recursion, or memory "
            "exhaustion inside a C library)",
        }
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return {
        "kind": "crashed",
        "message": f"the run's process exited with status {code} before solve returned "
        "(do not call os._exit or end the process)",
    }
