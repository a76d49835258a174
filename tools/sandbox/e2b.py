"""The same sandbox contract on E2B cloud sandboxes (`e2b-code-interpreter`), for when programs
must not run on this machine at all.

Per remote sandbox, once: upload the geometry package and the runtime (`library.py`). Per run:
upload the job (program, scene, limits) as one JSON file, and run a short driver with
`run_code` that starts the runtime's worker in a fresh Python process (`--once`), so each run
gets the same fork, rlimits, guards, timeout and caps as the local pool, and prints one
marked JSON line that the host parses. Nothing from the host environment is sent: only the
API key (to the SDK, not into the sandbox), the library and the job. The remote template must
provide numpy, scipy and shapely (E2B's code-interpreter template has numpy and scipy; add
shapely with a custom template if a run reports that geometry cannot be imported).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from common.errors import UserError

from .base import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    ErrorKind,
    ExecutionResult,
    Sandbox,
    SceneInput,
    failure,
    parse_reply_line,
    result_from_reply,
    scene_to_dict,
)
from .library import library_files, worker_command

REPLY_MARKER = "OUROBOROS-SANDBOX-REPLY "
INSTALL_HINT = "pip install 'ouroboros-spatial[e2b]' (or pip install e2b-code-interpreter)"
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class E2BSandboxConfig:
    """Settings of the E2B sandbox."""

    template: str | None = field(
        default=None,
        metadata={"help": "E2B template (default: the SDK's code-interpreter template); it "
                  "must provide numpy, scipy and shapely."},
    )  # fmt: skip
    workers: int = field(
        default=2, metadata={"help": "Remote sandboxes used in parallel by run_many."}
    )
    api_key_env: str = field(
        default="E2B_API_KEY", metadata={"help": "Environment variable holding the E2B API key."}
    )
    sandbox_lifetime_s: int = field(
        default=900, metadata={"help": "Seconds a remote sandbox lives (E2B's timeout)."}
    )
    remote_dir: str = field(
        default="/home/user/ouroboros", metadata={"help": "Working folder inside the sandbox."}
    )
    allow_internet: bool = field(
        default=False, metadata={"help": "Let the remote sandbox reach the internet."}
    )
    reply_grace_s: float = field(
        default=20.0,
        metadata={"help": "Seconds beyond a run's timeout to wait for E2B before giving up."},
    )
    max_output_bytes: int = field(default=64 * 1024, metadata={"help": "Cap on stdout/stderr."})
    max_value_bytes: int = field(
        default=1024 * 1024, metadata={"help": "Cap on the JSON size of the returned value."}
    )
    max_open_files: int = field(default=64, metadata={"help": "RLIMIT_NOFILE of a run."})
    max_file_size_mb: int = field(default=16, metadata={"help": "RLIMIT_FSIZE of a run."})


def _load_sdk() -> Any:
    try:
        import e2b_code_interpreter
    except ImportError as error:
        raise UserError(
            f"the e2b sandbox needs the e2b-code-interpreter package ({error}); {INSTALL_HINT}"
        ) from error
    return e2b_code_interpreter


class E2BSandbox(Sandbox):
    """Runs programs in E2B cloud sandboxes; same results and error kinds as `LocalSandbox`."""

    name = "e2b"
    config_class = E2BSandboxConfig

    def __init__(self, config: E2BSandboxConfig | None = None, **overrides: Any) -> None:
        self.config: E2BSandboxConfig = self.merged_config(config, overrides)
        self._sdk = _load_sdk()
        self._api_key = os.environ.get(self.config.api_key_env, "")
        if not self._api_key:
            raise UserError(
                f"the e2b sandbox needs an API key in ${self.config.api_key_env}; create one at "
                "https://e2b.dev/dashboard and export it, or use the local sandbox "
                "(sandbox: local)"
            )
        if self.config.workers < 1:
            raise UserError(f"workers must be at least 1, got {self.config.workers}")
        self.parallelism = self.config.workers
        self._idle: queue.Queue[Any] = queue.Queue()
        self._live: list[Any] = []
        self._lock = threading.Lock()
        self._library_dir = f"{self.config.remote_dir}/lib"

    # -- remote sandboxes ----------------------------------------------------------------
    def _create_remote(self) -> Any:
        options: dict[str, Any] = {
            "timeout": self.config.sandbox_lifetime_s,
            "api_key": self._api_key,
            "allow_internet_access": self.config.allow_internet,
        }
        if self.config.template:
            options["template"] = self.config.template
        remote = self._sdk.Sandbox.create(**options)
        try:
            for relative, content in library_files().items():
                remote.files.write(f"{self._library_dir}/{relative}", content)
        except Exception:
            self._kill(remote)
            raise
        return remote

    def _acquire(self) -> Any:
        """An idle remote sandbox, a new one while fewer than `workers` exist, else wait.

        Waiting polls, because a remote sandbox that fails is discarded rather than returned,
        and a waiter must then notice that it may create a replacement.
        """
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                create = len(self._live) < self.config.workers
                if create:
                    self._live.append(None)  # reserve the place while creating
            if create:
                return self._create_reserved()
            try:
                return self._idle.get(timeout=0.1)
            except queue.Empty:
                continue

    def _create_reserved(self) -> Any:
        try:
            remote = self._create_remote()
        except BaseException:
            with self._lock:
                self._live.remove(None)
            raise
        with self._lock:
            self._live[self._live.index(None)] = remote
        return remote

    def _discard(self, remote: Any) -> None:
        with self._lock:
            if remote in self._live:
                self._live.remove(remote)
        self._kill(remote)

    @staticmethod
    def _kill(remote: Any) -> None:
        with contextlib.suppress(Exception):  # already gone or unreachable: nothing to clean
            remote.kill()

    def close(self) -> None:
        with self._lock:
            live, self._live = [r for r in self._live if r is not None], []
        for remote in live:
            self._kill(remote)

    # -- running -------------------------------------------------------------------------
    def _settings(self) -> str:
        return json.dumps(
            {
                "runs_root": f"{self.config.remote_dir}/runs",
                "library_dir": self._library_dir,
                "max_output_bytes": self.config.max_output_bytes,
                "max_value_bytes": self.config.max_value_bytes,
                "max_open_files": self.config.max_open_files,
                "max_file_size_bytes": self.config.max_file_size_mb * 1024 * 1024,
                "guards": True,
            }
        )

    def driver_code(self, job_path: str, timeout_s: float) -> str:
        """The Python run in the remote kernel: one fresh worker process for one job."""
        arguments = worker_command(
            "python", self._library_dir, "--once", job_path, self._settings()
        )
        env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"}
        no_reply = {"kind": "crashed", "message": "the remote worker exited without a reply"}
        late = {"kind": "timeout", "message": f"the remote worker ran past {timeout_s + 5:g} s"}
        return "\n".join(
            [
                "import json, os, subprocess, sys",
                f"os.makedirs({self.config.remote_dir + '/runs'!r}, exist_ok=True)",
                "try:",
                "    done = subprocess.run(",
                f"        [sys.executable, *{arguments[1:]!r}],",
                "        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,",
                f"        stderr=subprocess.DEVNULL, env={env!r}, timeout={timeout_s + 5!r})",
                "    lines = done.stdout.decode('utf-8', 'replace').strip().splitlines()",
                f"    reply = lines[-1] if lines else json.dumps({no_reply!r})",
                "except subprocess.TimeoutExpired:",
                f"    reply = json.dumps({late!r})",
                "finally:",
                "    try:",
                f"        os.remove({job_path!r})",
                "    except OSError:",
                "        pass",
                f"print({REPLY_MARKER!r} + reply)",
            ]
        )

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
            job = json.dumps(
                {
                    "program": program,
                    "scene": scene_to_dict(scene),
                    "timeout_s": float(timeout_s),
                    "memory_mb": int(memory_mb),
                }
            )
        except (TypeError, ValueError) as error:
            return failure(ErrorKind.SANDBOX_ERROR, f"the job cannot be sent: {error}")
        try:
            remote = self._acquire()
        except Exception as error:
            return failure(
                ErrorKind.SANDBOX_ERROR,
                f"could not create an E2B sandbox: {type(error).__name__}: {error}",
                duration_s=time.monotonic() - started,
                sandbox=self.name,
            )
        job_path = f"{self.config.remote_dir}/jobs/{uuid.uuid4().hex}.json"
        keep = False
        try:
            remote.files.write(job_path, job.encode())
            execution = remote.run_code(
                self.driver_code(job_path, float(timeout_s)),
                timeout=float(timeout_s) + self.config.reply_grace_s,
            )
            keep = True
        except self._sdk.TimeoutException as error:
            return failure(
                ErrorKind.TIMEOUT,
                f"E2B did not finish the run within {timeout_s + self.config.reply_grace_s:g} s "
                f"({error}); the remote sandbox was replaced",
                duration_s=time.monotonic() - started,
                sandbox=self.name,
            )
        except Exception as error:
            return failure(
                ErrorKind.SANDBOX_ERROR,
                f"E2B failed: {type(error).__name__}: {error}",
                duration_s=time.monotonic() - started,
                sandbox=self.name,
            )
        finally:
            if keep:
                self._idle.put(remote)
            else:
                self._discard(remote)
        return self.parse_execution(execution, duration_s=time.monotonic() - started)

    def parse_execution(self, execution: Any, *, duration_s: float) -> ExecutionResult:
        """The marked reply line of the driver, or a `sandbox_error` saying what came back."""
        error = getattr(execution, "error", None)
        if error is not None:
            return failure(
                ErrorKind.SANDBOX_ERROR,
                f"the remote driver failed: {getattr(error, 'name', '')}: "
                f"{getattr(error, 'value', error)}",
                duration_s=duration_s,
                sandbox=self.name,
            )
        stdout = "".join(getattr(getattr(execution, "logs", None), "stdout", None) or [])
        replies = [
            line[len(REPLY_MARKER) :]
            for line in stdout.splitlines()
            if line.startswith(REPLY_MARKER)
        ]
        if not replies:
            return failure(
                ErrorKind.SANDBOX_ERROR,
                f"the remote driver printed no reply; its output began: {stdout[:300]!r}",
                duration_s=duration_s,
                sandbox=self.name,
            )
        return result_from_reply(
            parse_reply_line(replies[-1]), duration_s=duration_s, sandbox=self.name
        )
