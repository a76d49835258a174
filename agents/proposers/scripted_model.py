"""A chat model that replays a script: drive the real proposer graph without an LLM.

Tests use it to walk the agent through a known trajectory, and tool authors can use it to
check a new tool end to end (docs/llm_proposer.md). Each scripted step is an `AIMessage`
(usually made with `tool_calls_reply`), an exception to raise (a transient server error,
say), or a function of the messages received that returns an `AIMessage`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

ScriptStep = AIMessage | BaseException | Callable[[list[BaseMessage]], AIMessage]

_call_ids = itertools.count(1)


def tool_calls_reply(*calls: tuple[str, dict[str, Any]], content: str = "") -> AIMessage:
    """An assistant reply calling tools: `tool_calls_reply(("list_objects", {}), ...)`."""
    return AIMessage(
        content=content,
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{next(_call_ids)}", "type": "tool_call"}
            for name, args in calls
        ],
        usage_metadata={"input_tokens": 100, "output_tokens": 20, "total_tokens": 120},
    )


class ScriptedChatModel(BaseChatModel):
    """Answers call i with script step i; raises once the script is used up."""

    script: list[Any] = Field(default_factory=list, description="The steps, in call order.")
    model_name: str = "scripted"
    _received: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _bound_tools: list[str] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def received(self) -> list[list[BaseMessage]]:
        """The messages of every call so far, in order."""
        return self._received

    @property
    def bound_tools(self) -> list[str]:
        """Names of the tools the last `bind_tools` call offered."""
        return self._bound_tools

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self._bound_tools = [getattr(t, "name", getattr(t, "__name__", str(t))) for t in tools]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            index = len(self._received)
            self._received.append(list(messages))
        if index >= len(self.script):
            raise RuntimeError(
                f"the script has {len(self.script)} steps and call {index + 1} asked for another"
            )
        step = self.script[index]
        if isinstance(step, BaseException):
            raise step
        reply = step(list(messages)) if callable(step) else step
        return ChatResult(generations=[ChatGeneration(message=_fresh(reply))])


def _fresh(reply: AIMessage) -> AIMessage:
    """A copy with new message and tool-call ids, so a step can be replayed several times
    (LangGraph merges messages by id, and a tool result answers one call id)."""
    calls = [{**call, "id": f"call_{next(_call_ids)}"} for call in reply.tool_calls]
    invalid = [{**call, "id": f"call_{next(_call_ids)}"} for call in reply.invalid_tool_calls]
    return reply.model_copy(update={"id": None, "tool_calls": calls, "invalid_tool_calls": invalid})
