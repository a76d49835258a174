"""The default sandbox: a warm pool of local worker processes, one forked child per run.

Design: each worker is a zygote (`runtime/worker.py`) that imports numpy, scipy, shapely and
the geometry library once and never runs user code. Per run it forks a child that locks
itself down and runs the program in a fresh namespace; the child's death takes every change
the program made (to modules, builtins, globals, files in its directory) with it. The host
talks to workers in JSON lines over pipes, never pickle.

Threat model (docs/sandbox.md has the full version)
----------------------------------------------------
The program is assumed hostile, able to read and write its own memory and so to switch off
the in-process guards. The boundary is kernel-enforced: with bwrap (isolation.py) each
worker lives in a jail whose file system holds only the interpreter, the shared libraries,
the library folder and size-limited private tmpfs mounts for run folders, /tmp and
/dev/shm, in new pid and network namespaces; runs switch to an unprivileged uid when the
host is root; rlimits, the wall-clock deadline and output caps bound every run. Runs fork
from a zygote that never saw a job (runtime/zygote.py), so no run can reach an earlier
run's program, scene or result. The guards (runtime/guards.py) are a second layer only.
Without bwrap the pool warns loudly: host files are then protected by the guards alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UserError

from .base import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    ErrorKind,
    ExecutionResult,
    Sandbox,
    SceneEncoder,
    SceneInput,
    failure,
    parse_reply_line,
    result_from_reply,
)
from .isolation import JailLimits, Launcher, choose_launcher
from .library import stage_library, worker_command
from .pool_folder import PoolFolder

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
logger = logging.getLogger(__name__)
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class LocalSandboxConfig:
    """Settings of the local worker pool."""

    workers: int = field(
        default_factory=_default_workers,
        metadata={"help": "Worker processes, i.e. runs in parallel (default: CPUs, at most 4)."},
    )
    isolation: str = field(
        default="auto",
        metadata={
            "help": "How workers are launched: auto (strongest available), bwrap, unshare "
            "(Linux namespaces) or none (rlimits, uid drop and in-process guards only)."
        },
    )
    drop_privileges: bool = field(
        default=True,
        metadata={"help": "When the host is root, run programs as an unprivileged uid."},
    )
    run_uid_base: int = field(
        default=64000,
        metadata={"help": "Worker slot k runs programs as uid/gid run_uid_base + k (root only)."},
    )
    guards: bool = field(
        default=True,
        metadata={"help": "In-process guards (audit hook, socket block); defence in depth."},
    )
    max_output_bytes: int = field(
        default=64 * 1024, metadata={"help": "Cap on each of stdout and stderr per run."}
    )
    max_value_bytes: int = field(
        default=1024 * 1024, metadata={"help": "Cap on the JSON size of the returned value."}
    )
    max_open_files: int = field(default=64, metadata={"help": "RLIMIT_NOFILE of a run."})
    max_file_size_mb: int = field(
        default=16, metadata={"help": "RLIMIT_FSIZE of a run: largest file it may write."}
    )
    start_timeout_s: float = field(
        default=120.0, metadata={"help": "Seconds a worker may take to import and report ready."}
    )
    reply_grace_s: float = field(
        default=5.0,
        metadata={
            "help": "Seconds beyond a run's timeout the host waits for a worker's reply "
            "before it kills and replaces the worker."
        },
    )
    python: str = field(
        default=sys.executable, metadata={"help": "Python interpreter for the workers."}
    )
    run_folder_mb: int = field(
        default=64,
        metadata={
            "help": "bwrap only: size of the tmpfs that holds the runs' folders (a disk quota "
            "for what one run writes; RAM, emptied after every run)."
        },
    )
    scratch_mb: int = field(
        default=16,
        metadata={"help": "bwrap only: size of each of the jail's private /tmp and /dev/shm."},
    )


class _Worker:
    """One zygote process and the host's ends of its pipes."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        log_path: Path,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                start_new_session=True,
                close_fds=True,
                pass_fds=pass_fds,
            )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.job_fd = self.process.stdin.fileno()
        self.reply_fd = self.process.stdout.fileno()
        os.set_blocking(self.job_fd, False)
        os.set_blocking(self.reply_fd, False)
        self.pending = bytearray()
        self.ready_info: dict[str, Any] = {}

    def send(self, payload: bytes, deadline: float) -> bool:
        view = memoryview(payload)
        with selectors.DefaultSelector() as selector:
            selector.register(self.job_fd, selectors.EVENT_WRITE)
            while view:
                if time.monotonic() >= deadline or not selector.select(deadline - time.monotonic()):
                    return False
                try:
                    view = view[os.write(self.job_fd, view) :]
                except BlockingIOError:
                    continue
                except OSError:  # the worker is gone
                    return False
        return True

    def read_line(self, deadline: float, max_bytes: int) -> bytes | None:
        """The next line, or None on timeout, end of file or an over-long line."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.reply_fd, selectors.EVENT_READ)
            while b"\n" not in self.pending:
                if len(self.pending) > max_bytes:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                try:
                    chunk = os.read(self.reply_fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    return None
                self.pending += chunk
        line, _, rest = bytes(self.pending).partition(b"\n")
        self.pending = bytearray(rest)
        return line

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""

    def kill(self, grace_s: float = 0.0) -> None:
        """Close the pipes (an idle worker exits on end of input), wait up to `grace_s`,
        then SIGKILL its whole process group."""
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        if grace_s > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _shutdown(workers: list[_Worker | None], folder: PoolFolder) -> None:
    """Stop every worker and remove the pool's folder; never raises (it runs from close(),
    from garbage collection and at interpreter exit)."""
    live = [worker for worker in workers if worker is not None]
    for worker in live:  # end of input first, so idle workers exit on their own together
        with contextlib.suppress(Exception):
            worker.process.stdin.close()  # type: ignore[union-attr]
    for worker in live:
        try:
            worker.kill(grace_s=2.0)
        except Exception as error:
            logger.warning("could not stop sandbox worker %s: %r", worker.process.pid, error)
    try:
        problems = folder.release()
    except Exception as error:
        problems = [repr(error)]
    if problems:
        logger.warning("sandbox folder %s not fully removed: %s", folder.path, problems[:3])


class LocalSandbox(Sandbox):
    """Warm pool of forking workers; see the module docstring for what it protects."""

    name = "local"
    config_class = LocalSandboxConfig

    def __init__(self, config: LocalSandboxConfig | None = None, **overrides: Any) -> None:
        self.config: LocalSandboxConfig = self.merged_config(config, overrides)
        if self.config.workers < 1:
            raise UserError(f"workers must be at least 1, got {self.config.workers}")
        self.parallelism = self.config.workers
        self._folder = PoolFolder()  # also removes folders left by SIGKILLed hosts
        self._root = self._folder.path
        self._library = stage_library(self._root / "lib")
        self._runs_root = self._root / "runs"
        self._runs_root.mkdir()
        os.chmod(self._runs_root, 0o711)
        self._launcher: Launcher | None = None
        self._workers: list[_Worker | None] = [None] * self.config.workers
        self._idle: queue.Queue[int] = queue.Queue()
        self._start_lock = threading.Lock()
        self._started = False
        self._closed = False
        self._scenes = SceneEncoder()
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self._folder)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> LocalSandbox:
        """Start every worker now (otherwise the first run does); idempotent."""
        with self._start_lock:
            if self._closed:
                raise UserError("this sandbox was closed; create a new one")
            if self._started:
                return self
            limits = JailLimits(
                self.config.run_folder_mb, self.config.scratch_mb, self.config.scratch_mb
            )
            self._launcher = choose_launcher(
                self.config.isolation, self.config.python, str(self._library), limits
            )
            starting: list[_Worker] = []
            try:
                for slot in range(self.config.workers):
                    starting.append(self._spawn(slot))
                for slot, worker in enumerate(starting):
                    self._workers[slot] = self._await_ready(worker)
            except BaseException:
                for worker in starting:
                    worker.kill()
                self._workers[:] = [None] * self.config.workers
                raise
            for slot in range(self.config.workers):
                self._idle.put(slot)
            self._started = True
        return self

    def close(self) -> None:
        self._closed = True
        self._finalizer()

    def __enter__(self) -> LocalSandbox:
        return self.start()

    @property
    def isolation(self) -> dict[str, Any]:
        """Which protection layers are active on this machine (for logs and tests)."""
        self.start()
        info = next((w.ready_info for w in self._workers if w is not None), {})
        return {
            "launcher": self._launcher.name if self._launcher else "",
            "pid_namespace": bool(info.get("pid_namespace")),
            "network_isolated": info.get("network_interfaces") == [],
            "run_uid": info.get("run_uid"),
            "filesystem_jail": bool(self._launcher and self._launcher.runs_root),
            "seccomp": bool(self._launcher and self._launcher.seccomp),
            "guards": self.config.guards,
        }

    def _settings(self, slot: int) -> dict[str, Any]:
        drop = self.config.drop_privileges and os.geteuid() == 0
        uid = self.config.run_uid_base + slot if drop else None
        launcher = self._launcher
        assert launcher is not None
        return {
            "runs_root": launcher.runs_root or str(self._runs_root),
            "private_dirs": list(launcher.private_dirs),
            "host_pid_namespace": _pid_namespace(),
            "library_dir": launcher.library_dir or str(self._library),
            "run_uid": uid,
            "run_gid": uid,
            "max_output_bytes": self.config.max_output_bytes,
            "max_value_bytes": self.config.max_value_bytes,
            "max_open_files": self.config.max_open_files,
            "max_file_size_bytes": self.config.max_file_size_mb * 1024 * 1024,
            "guards": self.config.guards,
        }

    def _spawn(self, slot: int) -> _Worker:
        assert self._launcher is not None
        library = self._launcher.library_dir or str(self._library)
        command, descriptors = self._launcher.open_command(
            worker_command(self.config.python, library, "--serve", json.dumps(self._settings(slot)))
        )
        env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": str(self._runs_root)}
        env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
        try:
            return _Worker(command, env, self._root / f"worker-{slot}.log", descriptors)
        except OSError as error:
            raise UserError(
                f"cannot start a local sandbox worker ({command[0]}): {error}; "
                "check the python setting"
            ) from error
        finally:
            for fd in descriptors:
                os.close(fd)

    def _await_ready(self, worker: _Worker) -> _Worker:
        line = worker.read_line(time.monotonic() + self.config.start_timeout_s, 1 << 16)
        info = parse_reply_line(line) if line is not None else None
        if not isinstance(info, dict) or not info.get("ready"):
            worker.kill()
            reason = (info or {}).get("error") if isinstance(info, dict) else None
            raise UserError(
                "a local sandbox worker could not start: "
                f"{reason or worker.log_tail() or 'no answer within start_timeout_s'}. "
                "Check that numpy, scipy and shapely import in "
                f"{self.config.python} and that tools/geometry is intact."
            )
        worker.ready_info = info
        return worker

    # -- running -------------------------------------------------------------------------
    def run(
        self,
        program: str,
        scene: SceneInput,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ) -> ExecutionResult:
        started = time.monotonic()
        try:
            header = {
                "program": program,
                "timeout_s": float(timeout_s),
                "memory_mb": int(memory_mb),
            }
            payload = b"%s\n%s\n" % (json.dumps(header).encode(), self._scenes.encode(scene))
        except (TypeError, ValueError) as error:
            return failure(ErrorKind.SANDBOX_ERROR, f"the job cannot be sent: {error}")
        self.start()
        slot = self._idle.get()
        try:
            return self._run_on(slot, payload, float(timeout_s), started)
        finally:
            self._idle.put(slot)

    def _run_on(
        self, slot: int, payload: bytes, timeout_s: float, started: float
    ) -> ExecutionResult:
        worker = self._workers[slot]
        if worker is None or worker.process.poll() is not None:
            try:
                worker = self._replace(slot)
            except UserError as error:
                return failure(ErrorKind.SANDBOX_ERROR, str(error), sandbox=self.name)
        deadline = started + timeout_s + self.config.reply_grace_s
        max_reply = self.config.max_value_bytes + 4 * self.config.max_output_bytes + (1 << 16)
        line = worker.read_line(deadline, max_reply) if worker.send(payload, deadline) else None
        duration = time.monotonic() - started
        if line is None:
            self._discard(slot)
            return failure(
                ErrorKind.SANDBOX_ERROR,
                f"the worker did not answer within {timeout_s + self.config.reply_grace_s:g} s "
                "or died; it was replaced",
                duration_s=duration,
                sandbox=self.name,
            )
        return result_from_reply(parse_reply_line(line), duration_s=duration, sandbox=self.name)

    def _discard(self, slot: int) -> None:
        worker = self._workers[slot]
        self._workers[slot] = None
        if worker is not None:
            worker.kill()

    def _replace(self, slot: int) -> _Worker:
        self._discard(slot)
        worker = self._await_ready(self._spawn(slot))
        self._workers[slot] = worker
        return worker
