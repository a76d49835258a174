"""Check 1, execution: the program ran, returned a JSON value, and does so again.

The first run is `agents.execution.execute` (errors, timeouts and non-JSON values are
rejected there with their reasons). This check runs every surviving program a second
time in the sandbox and rejects it as `nondeterministic` when the answer differs. The
local sandbox forks every run from the same warm worker, so two runs of a program that
draws from an unseeded RNG can agree by accident; the second run therefore re-seeds the
global RNGs (`random`, `numpy.random`) and shifts the wall clock (`time.time`) first, so a
program that reads either shows it. A deterministic program cannot tell the difference.
"""

from __future__ import annotations

import ast
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.records import Sample
from agents.verifier.base import Check, CheckContext, Finding
from agents.verifier.reasons import RejectReason
from tools.sandbox import ErrorKind, ExecutionResult
from tools.sandbox.base import scene_to_dict

PERTURBATION = """
import random as _verifier_random
import time as _verifier_time
_verifier_random.seed({seed})
try:
    import numpy as _verifier_numpy
    _verifier_numpy.random.seed({seed})
except ImportError:
    pass
_verifier_clock, _verifier_clock_ns = _verifier_time.time, _verifier_time.time_ns
_verifier_time.time = lambda: _verifier_clock() + {shift_s!r}
_verifier_time.time_ns = lambda: _verifier_clock_ns() + {shift_ns}
"""

_LIMIT_KINDS = {ErrorKind.TIMEOUT, ErrorKind.MEMORY, ErrorKind.OUTPUT_LIMIT}


@dataclass
class DeterminismConfig:
    """How the second run is made and compared."""

    perturb: bool = field(
        default=True,
        metadata={"help": "Re-seed random/numpy.random and shift the clock in the second run."},
    )
    clock_shift_s: float = field(
        default=262_861.0,
        metadata={
            "help": "Seconds added to time.time() in the second run: 3 days, 1 hour, 1 minute "
            "and 1 second, so every clock field and the parity of the seconds change."
        },
    )
    rel_tol: float = field(
        default=1e-9, metadata={"help": "Numbers closer than this (relative) count as equal."}
    )


class DeterminismCheck(Check):
    """Runs each program a second time; a different answer (or a new error) rejects it."""

    name = "execution"
    config_class = DeterminismConfig
    config: DeterminismConfig

    def skip_reason(self, ctx: CheckContext) -> str | None:
        return None if ctx.sandbox is not None else "no sandbox given: second run skipped"

    def run(self, samples: Sequence[Sample], ctx: CheckContext) -> list[Finding | None]:
        assert ctx.sandbox is not None
        findings: list[Finding | None] = [None] * len(samples)
        jobs: list[tuple[int, str, dict[str, Any]]] = []
        scene_dicts: dict[str, dict[str, Any]] = {}
        for i, sample in enumerate(samples):
            scene_id = sample.proposal.scene_id
            if scene_id not in ctx.scenes:
                findings[i] = Finding.reject(
                    RejectReason.UNKNOWN_SCENE, f"no scene {scene_id!r} among the scenes given"
                )
                continue
            if scene_id not in scene_dicts:
                scene_dicts[scene_id] = scene_to_dict(ctx.scenes[scene_id])
            jobs.append((i, self.second_program(sample), scene_dicts[scene_id]))
        step = max(1, ctx.limits.batch_size)
        for start in range(0, len(jobs), step):
            batch = jobs[start : start + step]
            results = ctx.sandbox.run_many(
                [(program, scene) for _, program, scene in batch],
                timeout_s=ctx.limits.timeout_s,
                memory_mb=ctx.limits.memory_mb,
            )
            for (i, _, _), result in zip(batch, results, strict=True):
                findings[i] = self.compare(samples[i], result)
        return findings

    def second_program(self, sample: Sample) -> str:
        if not self.config.perturb:
            return sample.proposal.program
        seed = int(hashlib.sha256(sample.sample_id.encode()).hexdigest()[:8], 16) % (2**32 - 1) + 1
        return perturbed_program(sample.proposal.program, seed, self.config.clock_shift_s)

    def compare(self, sample: Sample, result: ExecutionResult) -> Finding | None:
        first = sample.executed_value
        if result.ok:
            if same_value(first, result.value, self.config.rel_tol):
                return None
            return Finding.reject(
                RejectReason.NONDETERMINISTIC,
                f"first run returned {_short(first)}, second run returned {_short(result.value)}",
            )
        message = f"{result.error_kind.value}: {result.error_message}"[:500]
        if result.error_kind in _LIMIT_KINDS:
            return Finding.reject(RejectReason.RESOURCE_LIMIT, f"second run: {message}")
        if result.error_kind is ErrorKind.SANDBOX_ERROR:
            return Finding.reject(RejectReason.SANDBOX_ERROR, f"second run: {message}")
        return Finding.reject(
            RejectReason.NONDETERMINISTIC,
            f"first run returned {_short(first)}, second run failed with {message}",
        )


def perturbed_program(program: str, seed: int, clock_shift_s: float) -> str:
    """The program with RNG re-seeding and a shifted clock inserted before its own code
    (after any `from __future__` imports, which must stay first)."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return program
    insert_after = 0
    for position, node in enumerate(tree.body):
        is_docstring = (
            position == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if is_docstring or is_future:
            insert_after = node.end_lineno or insert_after
            continue
        break
    lines = program.splitlines(keepends=True)
    head = "".join(lines[:insert_after])
    if head and not head.endswith("\n"):
        head += "\n"
    preamble = PERTURBATION.format(
        seed=seed, shift_s=clock_shift_s, shift_ns=int(clock_shift_s * 1e9)
    )
    return head + preamble + "".join(lines[insert_after:])


def same_value(a: Any, b: Any, rel_tol: float) -> bool:
    """JSON values equal, numbers within `rel_tol` (bools and numbers never mix)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if math.isnan(a) or math.isnan(b):
            return False
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            same_value(x, y, rel_tol) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], rel_tol) for k in a)
    return type(a) is type(b) and a == b


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
