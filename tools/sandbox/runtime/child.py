"""One run, inside the process forked for it: lock the process down, run, answer in JSON.

Everything here happens in a throw-away child of the worker, so whatever the program does to
modules, builtins or globals dies with it. The child drops privileges and applies limits
before the program is even compiled, and it writes exactly one JSON reply to the result pipe.
Standard library only (numpy and geometry are looked up in `sys.modules`): this folder ships
into remote sandboxes beside the geometry package.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import linecache
import math
import os
import resource
import signal
import sys
import traceback
from typing import Any, NoReturn

from . import guards

MIB = 1024 * 1024
MAX_MESSAGE_CHARS = 4000
MAX_DEPTH = 64
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


class NotJson(Exception):
    """The returned value has no faithful JSON form."""


JOB_FD, RESULT_FD = 0, 3


def run_from_descriptors(descriptors: list[int], settings: Any) -> NoReturn:
    """Entry point of a freshly forked run: put the job pipe on fd 0, stdout and stderr on
    1 and 2, the result pipe on 3, close everything else, read the job, then run it."""
    try:
        for target, fd in enumerate(descriptors):
            os.dup2(fd, target)
        close_descriptors_above(RESULT_FD)
        job, view = read_job(JOB_FD)
    except BaseException as error:
        message = (
            str(error)
            if isinstance(error, SceneUnreadable)
            else f"the run could not read its job: {error!r}"
        )
        _write_reply({"kind": "sandbox_error", "message": message}, settings, RESULT_FD)
        os._exit(0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), JOB_FD)
    run_in_child(job, view, settings, job["workdir"], RESULT_FD)


def read_job(fd: int) -> tuple[dict[str, Any], Any]:
    """The job header (program, limits, workdir) and the SceneView built from the scene.

    The view is built here, in the run's own process, and never in the zygote, so that no
    run inherits another run's scene."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    header_line, _, scene_json = b"".join(chunks).partition(b"\n")
    job = json.loads(header_line)
    try:
        view = sys.modules["geometry"].SceneView(json.loads(scene_json))
    except Exception as error:
        message = f"geometry.SceneView cannot read the scene: {type(error).__name__}: {error}"
        raise SceneUnreadable(message[:2000]) from None
    return job, view


class SceneUnreadable(Exception):
    """The scene the host sent cannot be turned into a SceneView (the host's fault)."""


def close_descriptors_above(lowest: int) -> None:
    """Close every inherited descriptor above `lowest` (the zygote's socket included);
    without listing /proc/self/fd, which a non-dumpable process may not read."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = hard if hard != resource.RLIM_INFINITY and hard < 1 << 20 else 1 << 16
    os.closerange(lowest + 1, highest)


def set_parent_death_signal() -> None:
    """SIGKILL this process when its parent dies."""
    if _libc is None:
        load_libc()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def make_undumpable() -> None:
    """No ptrace and no /proc/<pid>/mem from processes of the same uid (runs share the
    worker's uid when the host is not root): the supervisor and the zygote call this."""
    if _libc is None:
        load_libc()
    _prctl(PR_SET_DUMPABLE, 0)


def run_in_child(
    job: dict[str, Any], view: Any, settings: Any, workdir: str, result_fd: int
) -> NoReturn:
    """Entry point after fork: never returns, always ends the process with os._exit."""
    close, exit_now = os.close, os._exit
    try:
        reply = _lock_down_and_run(job, view, settings, workdir)
    except BaseException as error:  # the run could not even be set up
        reply = {"kind": "sandbox_error", "message": f"could not start the run: {error!r}"}
    _write_reply(reply, settings, result_fd)
    for fd in (1, 2, result_fd):  # the worker answers on EOF, before the teardown of this process
        with contextlib.suppress(OSError):
            close(fd)
    exit_now(0)


def _write_reply(reply: dict[str, Any], settings: Any, result_fd: int) -> None:
    write = os.write
    try:
        encoded = _encode_reply(reply, settings.max_value_bytes)
    except BaseException as error:
        encoded = json.dumps({"kind": "sandbox_error", "message": repr(error)[:500]}).encode()
    data = memoryview(encoded + b"\n")
    with contextlib.suppress(OSError):
        while data:
            data = data[write(result_fd, data) :]


def _lock_down_and_run(
    job: dict[str, Any], view: Any, settings: Any, workdir: str
) -> dict[str, Any]:
    timeout_s, memory_mb = float(job["timeout_s"]), int(job["memory_mb"])
    parent = os.getppid()
    os.setsid()  # own process group: the worker kills the whole group at the end
    os.chdir(workdir)
    os.umask(0o077)
    os.environ.clear()
    os.environ.update(HOME=workdir, TMPDIR=workdir, PATH=SAFE_PATH, LANG="C.UTF-8")
    if settings.run_uid is not None:
        os.setgroups([])
        os.setresgid(settings.run_gid, settings.run_gid, settings.run_gid)
        os.setresuid(settings.run_uid, settings.run_uid, settings.run_uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries give no privileges
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the worker (cleared by setuid: so now)
    if os.getppid() != parent:
        os._exit(0)
    _apply_limits(timeout_s, memory_mb, settings)
    _reset_signals()
    _fresh_standard_streams()

    ambiguous = sys.modules["geometry"].Ambiguous
    if settings.guards:
        guards.install(workdir, settings.read_roots)
    return _execute(job["program"], view, ambiguous)


_libc: Any = None


def load_libc() -> None:
    """Called by the worker before forking, so runs inherit libc instead of loading it."""
    global _libc
    try:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, ImportError):
        _libc = None


def _prctl(option: int, value: int) -> None:
    """Best effort: without ctypes or on other kernels the other layers still hold."""
    try:
        if _libc is not None:
            _libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _current_address_space() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _lower(limit: int, value: int) -> None:
    """Set soft and hard limit to `value`, never above an existing hard limit."""
    _soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(limit, (value, value))


def _apply_limits(timeout_s: float, memory_mb: int, settings: Any) -> None:
    cpu_s = math.ceil(timeout_s) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    hard_cpu = cpu_s + 1 if hard == resource.RLIM_INFINITY else min(cpu_s + 1, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (min(cpu_s, hard_cpu), hard_cpu))
    # memory_mb is what the program may add on top of the warm interpreter it was forked from.
    _lower(resource.RLIMIT_AS, _current_address_space() + memory_mb * MIB)
    _lower(resource.RLIMIT_CORE, 0)
    _lower(resource.RLIMIT_NOFILE, settings.max_open_files)
    _lower(resource.RLIMIT_FSIZE, settings.max_file_size_bytes)
    _lower(resource.RLIMIT_NPROC, 0)  # no fork, no threads (not enforced for real root)


def _reset_signals() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too large a file: an OSError, not a kill
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _fresh_standard_streams() -> None:
    """New text streams on fds 0-2 (set up by the worker), with nothing buffered from it."""
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )


def _execute(program: str, view: Any, ambiguous: type[BaseException]) -> dict[str, Any]:
    """Compile, load and call `solve`; every way that can fail becomes a typed reply."""
    stdout, stderr = sys.stdout, sys.stderr
    try:
        code = compile(program, "<program>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return {"kind": "syntax", "message": _describe_syntax_error(error)}
    linecache.cache["<program>"] = (len(program), None, program.splitlines(True), "<program>")
    trusted = _snapshot_trusted_modules()
    try:
        stage, outcome = _load_and_call(code, view)
    finally:
        _stop_timers()
        _restore_trusted_modules(trusted)
        _flush(stdout, stderr)
    if stage == "missing_solve":
        return {
            "kind": "missing_solve",
            "message": "the program defines no function solve(scene); "
            "define `def solve(scene): ...` and return the answer",
        }
    if stage != "returned":
        return _describe_exception(outcome, stage, ambiguous)
    try:
        return {"kind": "none", "value": to_json_safe(outcome)}
    except NotJson as error:
        return {"kind": "non_json", "message": f"solve returned {error}"}
    except BaseException as error:
        return _describe_exception(error, "while converting the answer to JSON", ambiguous)


def _load_and_call(code: Any, view: Any) -> tuple[str, Any]:
    """(stage, outcome): ("returned", value), ("missing_solve", None) or (where, exception).

    Nothing here inspects the outcome: that happens after the trusted modules are restored.
    """
    namespace: dict[str, Any] = {"__name__": "__program__", "__builtins__": builtins}
    try:
        exec(code, namespace)
    except BaseException as error:
        return "while loading the program", error
    solve = namespace.get("solve")
    if not callable(solve):
        return "missing_solve", None
    try:
        return "returned", solve(view)
    except BaseException as error:
        return "in solve(scene)", error


def _snapshot_trusted_modules() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Copies of the namespaces the reply is built with (builtins, json), taken before the
    program runs, so that a program patching them cannot garble how its result is reported."""
    modules = [builtins, json, json.encoder, traceback, math]
    return [(vars(module), dict(vars(module))) for module in modules]


def _restore_trusted_modules(snapshot: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    for namespace, saved in snapshot:
        namespace.clear()
        namespace.update(saved)


def _stop_timers() -> None:
    """Disarm alarms the program set, so none fires while the reply is written."""
    try:
        signal.alarm(0)
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(timer, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
    except (OSError, ValueError):
        pass


def _flush(*streams: Any) -> None:
    for stream in streams:
        with contextlib.suppress(BaseException):
            stream.flush()


def _describe_syntax_error(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        where = f"line {error.lineno}" if error.lineno else "unknown line"
        return f"the program does not compile: {error.msg} ({where})"
    return f"the program does not compile: {type(error).__name__}: {error}"


def _describe_exception(
    error: BaseException, where: str, ambiguous: type[BaseException]
) -> dict[str, Any]:
    try:
        if isinstance(error, ambiguous):
            return {"kind": "ambiguous", "message": str(error)[:MAX_MESSAGE_CHARS]}
        if isinstance(error, MemoryError):
            return {"kind": "memory", "message": f"ran out of memory {where} (MemoryError)"}
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__, limit=-8)
            if RUNTIME_DIR not in frame.filename
        ]
        text = "".join(traceback.format_list(frames))
        text += "".join(traceback.format_exception_only(type(error), error))
    except BaseException:  # a hostile __str__ or no memory left to format
        text = f"{type(error).__name__} (its message could not be formatted)"
    return {"kind": "exception", "message": f"{where}: {text[-MAX_MESSAGE_CHARS:]}"}


def to_json_safe(value: Any, depth: int = 0) -> Any:
    """Plain JSON data from what `solve` returned: numbers, strings, lists, str-keyed dicts.

    numpy scalars and arrays become numbers and lists; NaN, infinity, sets, generators and
    other objects raise `NotJson`, because silently stringifying them would hide a bug.
    """
    if depth > MAX_DEPTH:
        raise NotJson(f"a value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        number = float(value)
        if not math.isfinite(number):
            raise NotJson(f"{number}, which JSON cannot carry; return a finite number")
        return number
    if isinstance(value, str):
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise NotJson("a string with a lone surrogate, which UTF-8 cannot carry") from None
        return text
    if isinstance(value, (list, tuple)):
        return [to_json_safe(item, depth + 1) for item in value]
    if isinstance(value, dict):
        safe: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJson(f"a dict with a {type(key).__name__} key; JSON keys are strings")
            safe[str(key)] = to_json_safe(item, depth + 1)
        return safe
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return to_json_safe(value.item(), depth + 1)
    if numpy is not None and isinstance(value, numpy.ndarray):
        return to_json_safe(value.tolist(), depth + 1)
    raise NotJson(f"a {type(value).__name__}, which is not JSON data; return numbers, strings, "
                  "lists or dicts")  # fmt: skip


def _encode_reply(reply: dict[str, Any], max_value_bytes: int) -> bytes:
    try:
        encoded = json.dumps(reply, allow_nan=False, separators=(",", ":")).encode()
    except ValueError as error:  # e.g. an int with more digits than str() allows
        return _encode_reply({"kind": "non_json", "message": f"solve returned {error}"}, 0)
    if len(encoded) > max_value_bytes + MAX_MESSAGE_CHARS * 4 + 1024:
        reply = {
            "kind": "output_limit",
            "message": f"the answer is {len(encoded)} bytes as JSON, more than the "
            f"{max_value_bytes} allowed; return a number, a letter or a short list",
        }
        encoded = json.dumps(reply).encode()
    return encoded
