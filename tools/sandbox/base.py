"""What every sandbox promises: run an untrusted `solve(scene)` program, never raise for it.

A sandbox takes a ground-truth program (Python source that defines ``solve(scene)``) and a
scene, runs the program somewhere it cannot hurt the host, and answers with an
``ExecutionResult``: the JSON-safe value, or a typed error. Results cross every process
boundary as JSON (never pickle), so a hostile program cannot smuggle objects into the host.
"""

from __future__ import annotations

import json
import math
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, Union

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

if TYPE_CHECKING:
    from scenes.schema import Scene

SceneInput = Union["Scene", Mapping[str, Any]]  # a Scene record or its JSON dict
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 1024


class ErrorKind(str, Enum):
    """Why a run produced no value; `NONE` when it did."""

    NONE = "none"
    SYNTAX = "syntax"  # the program does not compile
    MISSING_SOLVE = "missing_solve"  # no callable `solve` after loading the program
    EXCEPTION = "exception"  # loading the program or `solve` raised (incl. blocked calls)
    AMBIGUOUS = "ambiguous"  # `solve` raised geometry.Ambiguous: the answer is too close to call
    TIMEOUT = "timeout"  # wall-clock or CPU-time limit
    MEMORY = "memory"  # the address-space limit stopped an allocation
    OUTPUT_LIMIT = "output_limit"  # printed or returned more than the caps allow
    NON_JSON = "non_json"  # the returned value has no faithful JSON form (NaN, sets, objects)
    CRASHED = "crashed"  # the run's process died (signal, os._exit) without a result
    SANDBOX_ERROR = "sandbox_error"  # the sandbox itself failed; not the program's fault


class ExecutionResult(BaseModel):
    """The outcome of one run, as it crosses from the sandbox to the host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: JsonValue = Field(default=None, description="What `solve` returned, as JSON data.")
    error_kind: ErrorKind = Field(default=ErrorKind.NONE, description="Why there is no value.")
    error_message: str = Field(default="", description="What went wrong, for a person to read.")
    stdout: str = Field(default="", description="What the program printed (capped).")
    stderr: str = Field(default="", description="What the program wrote to stderr (capped).")
    output_truncated: bool = Field(
        default=False, description="True when stdout or stderr was cut at the cap."
    )
    duration_s: float = Field(default=0.0, ge=0, description="Wall-clock seconds of the run.")
    sandbox: str = Field(default="", description="Name of the sandbox that ran it.")

    @property
    def ok(self) -> bool:
        return self.error_kind is ErrorKind.NONE


def scene_to_dict(scene: Any) -> dict[str, Any]:
    """The JSON dict form of a scene: a `Scene` record or an already-dumped dict."""
    if isinstance(scene, Mapping):
        return dict(scene)
    dump = getattr(scene, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"scene must be a Scene or its JSON dict, got {type(scene).__name__}")


class SceneEncoder:
    """Scene -> compact JSON bytes (one line), remembering the last few `Scene` records.

    The loop runs many programs on the same scene; a `Scene` is a frozen record, so its
    encoding is kept by identity (with a reference, so the identity stays valid). Dicts are
    mutable and are encoded every time.
    """

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._cache: OrderedDict[int, tuple[Any, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, scene: Any) -> bytes:
        if isinstance(scene, Mapping):
            return json.dumps(scene, separators=(",", ":")).encode()
        with self._lock:
            hit = self._cache.get(id(scene))
            if hit is not None and hit[0] is scene:
                self._cache.move_to_end(id(scene))
                return hit[1]
        encoded = json.dumps(scene_to_dict(scene), separators=(",", ":")).encode()
        with self._lock:
            self._cache[id(scene)] = (scene, encoded)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return encoded


def result_from_reply(
    reply: Any, *, duration_s: float, sandbox: str, max_message_chars: int = 8000
) -> ExecutionResult:
    """Validate a worker's JSON reply; anything malformed becomes a `sandbox_error`.

    The reply comes from a process that ran untrusted code, so it is checked field by field
    rather than trusted.
    """
    if not isinstance(reply, dict):
        return failure(
            ErrorKind.SANDBOX_ERROR,
            f"the worker's reply is not a JSON object: {str(reply)[:200]!r}",
            duration_s=duration_s,
            sandbox=sandbox,
        )
    problem = json_value_problem(reply.get("value"))
    if problem:
        reply = {**reply, "kind": ErrorKind.NON_JSON.value, "value": None}
        reply["message"] = f"solve returned {problem}"
    try:
        return ExecutionResult(
            value=reply.get("value"),
            error_kind=ErrorKind(reply.get("kind", "sandbox_error")),
            error_message=utf8_text(reply.get("message", ""))[:max_message_chars],
            stdout=utf8_text(reply.get("stdout", "")),
            stderr=utf8_text(reply.get("stderr", "")),
            output_truncated=bool(reply.get("output_truncated", False)),
            duration_s=duration_s,
            sandbox=sandbox,
        )
    except (ValueError, ValidationError) as error:
        return failure(
            ErrorKind.SANDBOX_ERROR,
            f"the worker's reply does not fit ExecutionResult: {str(error)[:500]}",
            duration_s=duration_s,
            sandbox=sandbox,
        )


MAX_VALUE_DEPTH = 64
MAX_INT_DIGITS = 400  # far beyond any answer; larger ints cannot become a float ground truth


def utf8_text(text: Any) -> str:
    """`text` as a string UTF-8 can carry: lone surrogates (which a program can put in any
    message) become visible escapes instead of crashing a file writer later."""
    text = text if isinstance(text, str) else str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def json_value_problem(value: Any, depth: int = 0) -> str:
    """Why a returned value cannot be stored and compared as an answer ('' when it can).

    A reply is parsed from a process that ran untrusted code: NaN and infinity (which
    `json.loads` accepts), lone surrogates, huge ints and deep nesting are refused here,
    however the reply was produced."""
    if depth > MAX_VALUE_DEPTH:
        return f"a value nested deeper than {MAX_VALUE_DEPTH} levels"
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int):
        if abs(value) >= 10**MAX_INT_DIGITS:
            return f"an integer with more than {MAX_INT_DIGITS} digits"
        return ""
    if isinstance(value, float):
        return "" if math.isfinite(value) else f"{value}, which JSON cannot carry"
    if isinstance(value, str):
        return "" if utf8_text(value) is value else "a string with a lone surrogate"
    if isinstance(value, list):
        return next((p for item in value if (p := json_value_problem(item, depth + 1))), "")
    if isinstance(value, dict):
        for key, item in value.items():
            problem = json_value_problem(key, depth + 1) or json_value_problem(item, depth + 1)
            if problem:
                return problem
        return ""
    return f"a {type(value).__name__}, which is not JSON data"


def failure(
    kind: ErrorKind, message: str, *, duration_s: float = 0.0, sandbox: str = ""
) -> ExecutionResult:
    return ExecutionResult(
        error_kind=kind, error_message=utf8_text(message), duration_s=duration_s, sandbox=sandbox
    )


def parse_reply_line(line: bytes | str) -> Any:
    """One JSON line from a worker; `None` when it is not valid JSON."""
    try:
        return json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


Job = tuple[str, SceneInput]  # (program source, scene)


class Sandbox(ABC):
    """What the loop runs programs through: one `run` per program, `run_many` in parallel.

    A sandbox subclasses this: set `name` and `config_class`, implement `run` (thread-safe,
    never raising for a bad program) and `close`; `run_many` and the context manager come
    with it (and the registry's `from_config`). Register the class in `SANDBOXES`
    (tools/sandbox/__init__.py).
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type] = object
    parallelism: int = 1

    @classmethod
    def from_config(cls, config: Any = None) -> Self:
        """The registry's constructor (`make_sandbox`): the sandbox from its `config_class`."""
        return cls(config)

    @classmethod
    def merged_config(cls, config: Any, overrides: Mapping[str, Any]) -> Any:
        """`config` (default: `config_class()`) with keyword `overrides` applied on top."""
        if config is None:
            return cls.config_class(**overrides)
        return cls.config_class(**{**asdict(config), **overrides}) if overrides else config

    @abstractmethod
    def run(
        self,
        program: str,
        scene: SceneInput,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ) -> ExecutionResult:
        """Run `program`'s `solve(scene)`; a bad program is an error result, never a raise."""

    @abstractmethod
    def close(self) -> None:
        """Release what the sandbox holds (workers, remote sandboxes); safe to call twice."""

    def run_many(
        self,
        jobs: Sequence[Job],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ) -> list[ExecutionResult]:
        """Run every (program, scene) job, up to `parallelism` at a time; results in order."""
        if not jobs:
            return []
        workers = max(1, min(self.parallelism, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=self.name) as pool:
            futures = [
                pool.submit(self.run, program, scene, timeout_s=timeout_s, memory_mb=memory_mb)
                for program, scene in jobs
            ]
            return [future.result() for future in futures]

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


#: The name sandboxes subclassed before `Sandbox` became the one abstract base; kept so
#: existing subclasses keep working. New code subclasses `Sandbox`.
SandboxBase = Sandbox
