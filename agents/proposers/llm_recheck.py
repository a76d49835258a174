"""The proposer re-check: a fresh look at (frames, question, computed answer) that may withdraw it.

The reviewer is the same model in a new conversation that holds only what the solver will
have, plus the computed answer, so it judges the question as posed rather than the
exploration behind it. It answers by calling `give_verdict`; a reply without a readable
verdict is sent back a bounded number of times, after which the question is withdrawn.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.runtime import Runtime
from pydantic import ValidationError

from agents.proposers.llm_prompts import render
from agents.proposers.llm_state import AgentLimits, AgentState
from agents.proposers.llm_tools import ToolContext
from agents.proposers.llm_tools.frames import describe_frame, frame_image_path, image_block
from agents.proposers.llm_trajectory import ModelCall, Recheck
from agents.proposers.models import invoke_with_retries
from scenes.sampling import uniform_positions


@tool(parse_docstring=True)
def give_verdict(keep: bool, reason: str) -> str:
    """Keep or withdraw the question under review.

    Args:
        keep: True to keep the question, False to withdraw it.
        reason: One sentence saying why.
    """
    return "recorded"


def recheck_submission(
    state: AgentState,
    runtime: Runtime[ToolContext],
    *,
    model: BaseChatModel,
    limits: AgentLimits,
    max_frames: int,
) -> dict[str, Any]:
    """Graph node: the verdict (`recheck`), the model calls and their tokens."""
    context = runtime.context
    submission = state["submission"]
    assert submission is not None  # routed here only after a submission
    reviewer = model.bind_tools([give_verdict])
    messages: list[BaseMessage] = [
        SystemMessage(render("recheck.md")),
        review_request(context, submission.proposal, submission.ground_truth, max_frames),
    ]
    calls: list[ModelCall] = []
    verdict: Recheck | None = None
    for _ in range(limits.max_errors + 1):
        response, record, failure = invoke_with_retries(
            reviewer,
            messages,
            retries=limits.model_retries,
            backoff_s=limits.retry_backoff_s,
            backoff_max_s=limits.retry_backoff_max_s,
            node="recheck",
        )
        calls.append(record)
        if response is None:
            verdict = Recheck(keep=False, reason=f"recheck_failed: {failure[1]}")
            break
        verdict, correction = _read_verdict(response)
        if verdict is not None:
            break
        messages += [response, *correction]
    if verdict is None:
        verdict = Recheck(keep=False, reason="recheck_no_verdict: the reviewer gave no verdict")
    return {
        "recheck": verdict,
        "model_calls": calls,
        "input_tokens": state.get("input_tokens", 0) + sum(c.input_tokens for c in calls),
        "output_tokens": state.get("output_tokens", 0) + sum(c.output_tokens for c in calls),
    }


def review_request(
    context: ToolContext, proposal: Any, answer: str, max_frames: int
) -> HumanMessage:
    """The question, options and computed answer, then the solver's frames (images or text)."""
    text = render(
        "recheck_request.md",
        question_type=proposal.question_type,
        question=proposal.question,
        options="Options: " + " ".join(proposal.options) if proposal.options else "(numeric)",
        answer=answer,
    )
    indices = list(proposal.frame_indices or [])
    if len(indices) > max_frames:
        indices = [indices[p] for p in uniform_positions(len(indices), max_frames)]
    frames = [context.view.frame(i) for i in indices]
    paths = [frame_image_path(context, frame) for frame in frames]
    if context.settings.multimodal and frames and all(paths):
        blocks: list[Any] = [{"type": "text", "text": text}]
        for frame, path in zip(frames, paths, strict=True):
            blocks.append({"type": "text", "text": f"Frame {frame.index}:"})
            blocks.append(
                {
                    k: v
                    for k, v in image_block(path, context.settings.frame_size).items()  # type: ignore[arg-type]
                    if k != "extras"
                }
            )
        return HumanMessage(content=blocks)
    captions = "\n".join(describe_frame(context, frame) for frame in frames)
    return HumanMessage(content=f"{text}\n{captions or '(this scene has no frames)'}")


def _read_verdict(response: AIMessage) -> tuple[Recheck | None, list[BaseMessage]]:
    """The verdict from a give_verdict call, or the messages that ask for one again."""
    for call in response.tool_calls:
        if call["name"] == "give_verdict":
            try:
                return Recheck.model_validate(call["args"]), []
            except ValidationError as error:
                message = f"Error: invalid give_verdict arguments: {error.errors()[0]['msg']}"
                return None, [ToolMessage(message, tool_call_id=call["id"] or "", status="error")]
    replies: list[BaseMessage] = [
        ToolMessage(
            "Error: only give_verdict is available", tool_call_id=c["id"] or "", status="error"
        )
        for c in response.tool_calls
    ]
    replies += [
        ToolMessage("Error: unreadable arguments", tool_call_id=c.get("id") or "", status="error")
        for c in response.invalid_tool_calls
    ]
    return None, [*replies, HumanMessage("Call give_verdict(keep, reason) now.")]
