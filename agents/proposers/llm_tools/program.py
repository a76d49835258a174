"""The program tool: run a draft ground-truth program in the sandbox, so the model can debug it.

A failing program is a normal result here (the model reads the error and fixes the draft),
not a tool error; only a missing program or sandbox is.
"""

from __future__ import annotations

from langchain.tools import ToolRuntime

from agents.proposers.llm_tools.context import ToolContext, ToolError
from tools.sandbox.base import ErrorKind, ExecutionResult

MAX_REPORTED_CHARS = 2000


def run_program(program: str, runtime: ToolRuntime[ToolContext]) -> str:
    """Run a draft program on this scene in the sandbox and report its value or its error.

    The program must define solve(scene) and may import only geometry (as g), numpy, math
    and the standard library. Use it to test a program before submit_proposal.

    Args:
        program: Python source defining solve(scene) -> answer.
    """
    context = runtime.context
    if not program.strip():
        raise ToolError("program is empty; pass Python source that defines solve(scene)")
    result = context.require_sandbox().run(
        program,
        context.scene,
        timeout_s=context.settings.program_timeout_s,
        memory_mb=context.settings.program_memory_mb,
    )
    return describe_result(result)


def describe_result(result: ExecutionResult) -> str:
    """An execution result as the model reads it: the value, or the error with a hint."""
    printed = _clip(result.stdout.strip())
    tail = f"\nprinted:\n{printed}" if printed else ""
    if result.ok:
        return f"ok: solve(scene) returned {result.value!r} in {result.duration_s:.2f} s{tail}"
    hint = {
        ErrorKind.AMBIGUOUS: "the answer is too close to call on this scene; pick other objects "
        "or a clearer setting",
        ErrorKind.SYNTAX: "fix the syntax error",
        ErrorKind.MISSING_SOLVE: "define a function solve(scene)",
        ErrorKind.TIMEOUT: "the program is too slow; simplify it",
        ErrorKind.NON_JSON: "return a plain string, number or list",
    }.get(result.error_kind, "fix the program and run it again")
    return (
        f"failed ({result.error_kind.value}): {_clip(result.error_message.strip())}\n"
        f"hint: {hint}{tail}"
    )


def _clip(text: str) -> str:
    if len(text) <= MAX_REPORTED_CHARS:
        return text
    return text[:MAX_REPORTED_CHARS] + f"\n... ({len(text) - MAX_REPORTED_CHARS} more characters)"
