"""The zygote: a preloaded interpreter that forks every run and never sees a job.

The worker (the supervisor, which talks to the host) forks the zygote before it reads any
job; the zygote imports numpy, scipy, shapely and geometry once and then only waits for fork
requests on a Unix socket. A request carries four descriptors (the pipe the run reads its
job from, and its stdout, stderr and result pipes) and no data; the zygote forks, answers
with the run's pid, waits for it and answers with its wait status. The program, the scene
and every reply go through the pipes straight between the supervisor and the run, so no
run inherits memory that ever held another run's program, scene, output or result (a
program that can read arbitrary memory finds only the preloaded libraries).
Standard library only: this folder ships into remote sandboxes.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from typing import Any, NoReturn

from . import child
from .interpreter import prepare_interpreter  # the heavy libraries load only when called

FORK_REQUEST = b"fork"
RUN_DESCRIPTORS = 4  # job (read end), stdout, stderr, result (write ends)
PID_MESSAGE = struct.Struct("=q")
EXIT_MESSAGE = struct.Struct("=qq")  # pid, wait status
KILLED_STATUS = 9  # the wait status of a process killed by SIGKILL


class ZygoteLost(RuntimeError):
    """The zygote died or answered out of protocol; the worker must be replaced."""


class ZygoteRun:
    """A run forked by the zygote, as `supervise` sees it (see supervise.RunProcess)."""

    def __init__(self, control: socket.socket, pid: int) -> None:
        self._control = control
        self.pid = pid
        self._status: int | None = None
        self.zygote_lost = False

    def exit_fd(self) -> int | None:
        return self._control.fileno()

    def _receive(self, block: bool) -> None:
        try:
            message = self._control.recv(64, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            message = b""
        if len(message) == EXIT_MESSAGE.size:
            pid, status = EXIT_MESSAGE.unpack(message)
            if pid == self.pid:
                self._status = status
                return
        self.zygote_lost = True  # end of file or garbage: report the run as killed
        self._status = KILLED_STATUS

    def poll(self) -> int | None:
        if self._status is None:
            self._receive(block=False)
        return self._status

    def wait(self) -> int:
        while self._status is None:
            self._receive(block=True)
        return self._status


class Zygote:
    """The supervisor's handle on its zygote process."""

    def __init__(self, settings: Any, close_in_zygote: tuple[int, ...] = ()) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            code = 70
            try:
                ours.close()
                for fd in close_in_zygote:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                serve_forks(theirs, settings)
            finally:
                os._exit(code)
        theirs.close()
        self.control = ours
        ready = self.control.recv(1 << 16)
        try:
            self.ready_info: dict[str, Any] = json.loads(ready)
        except ValueError:
            self.ready_info = {"ready": False, "error": "the zygote exited while starting"}

    def stop(self) -> None:
        """End the zygote (it exits when its socket closes) and collect it, so its CPU time
        and its runs' are accounted to this process."""
        with contextlib.suppress(OSError):
            self.control.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def fork(self, descriptors: list[int]) -> ZygoteRun:
        """Ask for a run; raises ZygoteLost when the zygote is gone."""
        try:
            socket.send_fds(self.control, [FORK_REQUEST], descriptors)
            message = self.control.recv(64)
        except OSError as error:
            raise ZygoteLost(f"the zygote is gone: {error}") from error
        if len(message) != PID_MESSAGE.size:
            raise ZygoteLost("the zygote ended or answered out of protocol")
        return ZygoteRun(self.control, PID_MESSAGE.unpack(message)[0])


def serve_forks(control: socket.socket, settings: Any) -> NoReturn:
    """The zygote's life: preload, report ready, then fork one run per request."""
    child.set_parent_death_signal()  # the zygote goes when its supervisor goes
    child.make_undumpable()
    try:
        ready = prepare_interpreter(settings)
    except BaseException as error:
        ready = {"ready": False, "error": f"{type(error).__name__}: {error}"}
    control.send(json.dumps(ready).encode())
    if not ready.get("ready"):
        os._exit(1)
    while True:
        try:
            message, descriptors, _flags, _address = socket.recv_fds(control, 64, RUN_DESCRIPTORS)
        except OSError:
            os._exit(0)
        if not message:  # the supervisor is gone
            os._exit(0)
        if message != FORK_REQUEST or len(descriptors) != RUN_DESCRIPTORS:
            for fd in descriptors:
                os.close(fd)
            control.send(b"?")
            continue
        pid = os.fork()
        if pid == 0:
            control.close()
            child.run_from_descriptors(descriptors, settings)
        for fd in descriptors:
            os.close(fd)
        control.send(PID_MESSAGE.pack(pid))
        _pid, status = os.waitpid(pid, 0)
        control.send(EXIT_MESSAGE.pack(pid, status))
