"""The tools the LLM proposer calls, one family per module, registered in `AGENT_TOOLS`.

Adding a tool: write a typed function whose Google-style docstring is the documentation the
model reads (a summary, then an `Args:` section), taking `runtime: ToolRuntime[ToolContext]`
to reach the scene; raise `ToolError("what was wrong; what to do")` for mistakes the model
can fix. Then add it to `AGENT_TOOLS` below (or pass `tools=[*AGENT_TOOLS, my_tool]` to
`LLMProposer`); the proposer offers it to the model and lists it in the system prompt. See
docs/llm_proposer.md. The tools live with the LLM proposer, not in the `tools` package,
because submitting needs the records, the task library and the verifier (docs/design.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.tools import BaseTool, tool

from agents.proposers.llm_tools.context import (
    QuestionRegistry,
    TaskRequest,
    ToolContext,
    ToolError,
    ToolSettings,
)
from agents.proposers.llm_tools.frames import view_frames
from agents.proposers.llm_tools.program import run_program
from agents.proposers.llm_tools.scene_queries import (
    camera_pose,
    check_route_leg,
    describe_object,
    frames_showing,
    list_categories,
    list_objects,
    measure_between,
    room_info,
)
from agents.proposers.llm_tools.submit import Submission, submit_proposal

AGENT_TOOLS: list[Callable[..., Any]] = [
    list_categories,
    list_objects,
    describe_object,
    measure_between,
    room_info,
    frames_showing,
    camera_pose,
    check_route_leg,
    view_frames,
    run_program,
    submit_proposal,
]

#: The tool whose successful call ends an attempt.
SUBMIT_TOOL = submit_proposal.__name__


def build_tools(functions: Sequence[Callable[..., Any] | BaseTool] | None = None) -> list[BaseTool]:
    """LangChain tools from plain functions (docstrings parsed into argument descriptions)."""
    built: list[BaseTool] = []
    for function in AGENT_TOOLS if functions is None else functions:
        if isinstance(function, BaseTool):
            built.append(function)
            continue
        try:
            built.append(tool(function, parse_docstring=True))
        except ValueError as error:
            raise ValueError(
                f"tool {getattr(function, '__name__', function)!r}: {error} A tool is a "
                "function with type hints whose docstring has a summary line and an 'Args:' "
                "section describing every parameter (see docs/llm_proposer.md)"
            ) from error
    names = [t.name for t in built]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two tools share the name(s) {duplicates}; tool names must be unique")
    if SUBMIT_TOOL not in names:
        raise ValueError(f"the tool list must include {SUBMIT_TOOL}, which ends an attempt")
    return built


__all__ = [
    "AGENT_TOOLS",
    "SUBMIT_TOOL",
    "QuestionRegistry",
    "Submission",
    "TaskRequest",
    "ToolContext",
    "ToolError",
    "ToolSettings",
    "build_tools",
    "submit_proposal",
]
