"""What the proposer agent's graph nodes share: the attempt's limits and the graph state.

The agent loop (llm_agent.py) and the re-check node (llm_recheck.py) both read these, so
they live here, below both, instead of one node module importing the other.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from agents.proposers.llm_tools import Submission
from agents.proposers.llm_trajectory import ModelCall, Recheck


@dataclass
class AgentLimits:
    """Bounds on one attempt; hitting one ends the attempt with a recorded reason."""

    max_tool_calls: int = field(default=30, metadata={"help": "Tool calls per attempt."})
    max_errors: int = field(
        default=6,
        metadata={"help": "Invalid tool calls, tool errors and tool-less replies sent back."},
    )
    max_tokens: int = field(
        default=200_000, metadata={"help": "Input + output tokens per attempt, all calls."}
    )
    max_seconds: float = field(default=600.0, metadata={"help": "Wall time per attempt (s)."})
    model_retries: int = field(
        default=4, metadata={"help": "Retries of a model call after a transient error."}
    )
    retry_backoff_s: float = field(
        default=1.0, metadata={"help": "First backoff before a retry; doubles each time (s)."}
    )
    retry_backoff_max_s: float = field(default=30.0, metadata={"help": "Longest backoff (s)."})
    max_images_in_context: int = field(
        default=8,
        metadata={
            "help": "Frame images kept in the conversation; older ones become a text note "
            "(servers cap images per request, e.g. vLLM's --limit-mm-per-prompt)."
        },
    )


class AgentState(TypedDict, total=False):
    """The graph state: the conversation, the submission, counters and the stop reason."""

    messages: Annotated[list[AnyMessage], add_messages]
    submission: Submission | None
    recheck: Recheck | None
    started_at: float
    tool_calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    model_calls: Annotated[list[ModelCall], operator.add]
    stop_reason: str | None
    stop_detail: str
