"""The proposer agent as a LangGraph graph: model -> tools -> tally, until a proposal is submitted.

```
START -> agent --tool calls--> tools -> tally --submitted--> recheck? -> END
           |                              |--limit hit---------------> END
           |--no/invalid tool call--> correct --> agent (bounded)
           `--model failed after retries----------------------------> END
```

`agent` calls the model (transient errors retried with backoff); `tools` is LangGraph's
ToolNode, which injects the scene (`ToolContext`, the graph's runtime context) and turns
every tool exception into an error message for the model; `tally` counts tool calls and
errors and enforces the limits; `correct` answers a reply without a usable tool call;
`recheck` (optional) shows a fresh model the frames, question and computed answer and lets
it withdraw the question.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import ToolInvocationError

from agents.proposers.llm_prompts import render
from agents.proposers.llm_recheck import recheck_submission
from agents.proposers.llm_state import AgentLimits, AgentState
from agents.proposers.llm_tools import ToolContext, ToolError
from agents.proposers.models import invoke_with_retries


def build_agent_graph(
    model: BaseChatModel,
    tools: list[BaseTool],
    limits: AgentLimits,
    *,
    recheck: bool = False,
    recheck_frames: int = 8,
) -> Any:
    """The compiled proposer graph; invoke it with `context=ToolContext(...)`."""
    graph = StateGraph(AgentState, context_schema=ToolContext)
    graph.add_node("agent", partial(call_agent, model=model.bind_tools(tools), limits=limits))
    graph.add_node("tools", ToolNode(tools, handle_tool_errors=tool_error_message))
    graph.add_node("tally", partial(tally_tools, limits=limits))
    graph.add_node("correct", partial(correct_reply, limits=limits))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", after_agent, ["tools", "correct", END])
    graph.add_edge("tools", "tally")
    next_steps = ["agent", "recheck", END] if recheck else ["agent", END]
    route = partial(after_check, recheck=recheck)
    graph.add_conditional_edges("tally", route, next_steps)
    graph.add_conditional_edges("correct", route, next_steps)
    if recheck:
        review = partial(recheck_submission, model=model, limits=limits, max_frames=recheck_frames)
        graph.add_node("recheck", review)
        graph.add_edge("recheck", END)
    return graph.compile()


def recursion_limit(limits: AgentLimits) -> int:
    """Graph steps an attempt can take: each loop is three nodes and uses a call or an error."""
    return 3 * (limits.max_tool_calls + limits.max_errors + 2) + 10


# -- nodes ---------------------------------------------------------------------------------


def call_agent(state: AgentState, *, model: Runnable, limits: AgentLimits) -> dict[str, Any]:
    """Ask the model for its next step (tool calls), retrying transient failures."""
    response, record, failure = invoke_with_retries(
        model,
        portable_messages(state["messages"], limits.max_images_in_context),
        retries=limits.model_retries,
        backoff_s=limits.retry_backoff_s,
        backoff_max_s=limits.retry_backoff_max_s,
        node="agent",
    )
    update: dict[str, Any] = {"model_calls": [record]}
    update["input_tokens"] = state.get("input_tokens", 0) + record.input_tokens
    update["output_tokens"] = state.get("output_tokens", 0) + record.output_tokens
    if response is None:
        code, detail = failure
        update.update(stop_reason=code, stop_detail=detail)
        return update
    update["messages"] = [response]
    return update


def after_agent(state: AgentState) -> str:
    if state.get("stop_reason"):
        return END
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and last.tool_calls:
        return "tools"
    return "correct"


def tally_tools(state: AgentState, *, limits: AgentLimits) -> dict[str, Any]:
    """Count this step's tool calls and errors; answer unreadable calls; check the limits."""
    messages = state["messages"]
    position = next(
        (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], AIMessage)), -1
    )
    last_ai = messages[position] if position >= 0 else None
    replies = messages[position + 1 :] if position >= 0 else []
    errors = sum(isinstance(m, ToolMessage) and m.status == "error" for m in replies)
    corrections = _invalid_call_replies(last_ai)
    update: dict[str, Any] = {
        "tool_calls": state.get("tool_calls", 0) + len(last_ai.tool_calls if last_ai else []),
        "errors": state.get("errors", 0) + errors + len(corrections),
    }
    if corrections:
        update["messages"] = corrections
    return update | _limit_hit({**state, **update}, limits)


def correct_reply(state: AgentState, *, limits: AgentLimits) -> dict[str, Any]:
    """The reply had no usable tool call: say what was wrong, count it as an error."""
    last_ai = _last_ai(state["messages"])
    corrections: list[BaseMessage] = list(_invalid_call_replies(last_ai))
    if not corrections:
        corrections = [HumanMessage(render("no_tool_call.md"))]
    update: dict[str, Any] = {"messages": corrections, "errors": state.get("errors", 0) + 1}
    return update | _limit_hit({**state, **update}, limits)


def after_check(state: AgentState, *, recheck: bool) -> str:
    if state.get("submission") is not None:
        return "recheck" if recheck else END
    if state.get("stop_reason"):
        return END
    return "agent"


# -- helpers -------------------------------------------------------------------------------


def _limit_hit(state: dict[str, Any], limits: AgentLimits) -> dict[str, Any]:
    """The stop reason for the first limit the attempt has passed (nothing when none)."""
    if state.get("submission") is not None:
        return {}
    checks = (
        ("too_many_errors", state.get("errors", 0) > limits.max_errors, "errors"),
        ("tool_call_limit", state.get("tool_calls", 0) >= limits.max_tool_calls, "tool calls"),
        (
            "token_limit",
            state.get("input_tokens", 0) + state.get("output_tokens", 0) > limits.max_tokens,
            "tokens",
        ),
        (
            "time_limit",
            time.time() - state.get("started_at", time.time()) > limits.max_seconds,
            "seconds",
        ),
    )
    for code, hit, what in checks:
        if hit:
            return {"stop_reason": code, "stop_detail": f"the attempt ran out of {what}"}
    return {}


def _last_ai(messages: list[AnyMessage]) -> AIMessage | None:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return message
    return None


def _invalid_call_replies(message: AIMessage | None) -> list[ToolMessage]:
    """An error reply for each tool call whose arguments were not valid JSON."""
    if message is None:
        return []
    return [
        ToolMessage(
            content=render(
                "invalid_tool_call.md",
                name=call.get("name") or "a tool",
                error=call.get("error") or "malformed arguments",
            ),
            tool_call_id=call.get("id") or "invalid",
            name=call.get("name") or "invalid",
            status="error",
        )
        for call in message.invalid_tool_calls
    ]


def tool_error_message(error: Exception) -> str:
    """What the model reads when a tool call fails; the graph never raises for a tool."""
    if isinstance(error, ToolInvocationError):
        return error.message
    if isinstance(error, ToolError):
        return f"Error: {error}"
    return (
        f"Error: the tool failed with {type(error).__name__}: {error}. "
        "Check the arguments against the tool's description and try again."
    )


def portable_messages(messages: list[AnyMessage], max_images: int = 8) -> list[BaseMessage]:
    """Messages every chat API accepts: tool results as text, their images moved to a user
    message after the run of tool results (OpenAI-style servers refuse images in tool
    results), and only the newest `max_images` images kept (older ones become a note)."""
    prepared: list[BaseMessage] = []
    pending_images: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, ToolMessage) and pending_images:
            prepared.append(_image_message(pending_images))
            pending_images = []
        if isinstance(message, ToolMessage) and isinstance(message.content, list):
            texts = [b.get("text", "") for b in message.content if _block_type(b) == "text"]
            images = [b for b in message.content if _block_type(b) in {"image", "image_url"}]
            pending_images += [
                {k: v for k, v in b.items() if k != "extras"} for b in images if isinstance(b, dict)
            ]
            note = f"\n[{len(images)} image(s) follow in the next message]" if images else ""
            prepared.append(message.model_copy(update={"content": "\n".join(texts) + note}))
            continue
        prepared.append(message)
    if pending_images:
        prepared.append(_image_message(pending_images))
    return _drop_old_images(prepared, max_images)


def _drop_old_images(messages: list[BaseMessage], keep: int) -> list[BaseMessage]:
    """Replace all but the newest `keep` images of the image messages by a short note."""
    budget = max(keep, 0)
    result: list[BaseMessage] = []
    for message in reversed(messages):
        if isinstance(message, HumanMessage) and isinstance(message.content, list):
            blocks: list[Any] = []
            for block in reversed(message.content):
                if _block_type(block) in {"image", "image_url"}:
                    if budget == 0:
                        block = {"type": "text", "text": "[an older frame image, omitted]"}
                    else:
                        budget -= 1
                blocks.append(block)
            message = message.model_copy(update={"content": list(reversed(blocks))})
        result.append(message)
    return list(reversed(result))


def _block_type(block: Any) -> str | None:
    return block.get("type") if isinstance(block, dict) else "text"


def _image_message(images: list[dict[str, Any]]) -> HumanMessage:
    return HumanMessage(content=[{"type": "text", "text": "Frames from view_frames:"}, *images])
