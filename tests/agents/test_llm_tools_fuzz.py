"""Fuzzing the proposer's tools: any arguments give a result or a clear tool error.

Hypothesis builds tool calls with the right argument names (and stray ones) holding values
of any JSON type, and sends them through the real agent graph, on a scene with frames and
on a metadata-only scene. Nothing may escape the graph: every call ends as one ToolMessage,
and an error message says what was wrong (never an empty string or a bare traceback).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from langchain_core.messages import ToolMessage

from agents.proposers.llm_agent import AgentLimits, build_agent_graph
from agents.proposers.llm_tools import (
    QuestionRegistry,
    TaskRequest,
    ToolContext,
    ToolSettings,
    build_tools,
)
from agents.proposers.scripted_model import ScriptedChatModel, tool_calls_reply
from agents.tasks.demo_scene import demo_scene
from tools.sandbox import make_sandbox

TOOLS = build_tools()
PARAMETERS = {t.name: list(t.tool_call_schema.model_json_schema()["properties"]) for t in TOOLS}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Plausible values too, so calls also get past validation into the tools' own checks.
plausible = (
    st.integers(min_value=-3, max_value=30)
    | st.lists(st.integers(min_value=-2, max_value=30), max_size=6)
    | st.sampled_from(["chair", "bed", "object_counting", "numeric", "multiple_choice", "3", "B"])
)
program_text = st.sampled_from(
    [
        "def solve(scene):\n    return scene.count('chair')\n",
        "def solve(scene):\n    return [1, {2}]\n",
        "import os\ndef solve(scene):\n    return os.listdir('/')\n",
        "def solve(scene) return",
        "while True: pass",
    ]
) | st.text(max_size=60)


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(PARAMETERS)))
    args: dict[str, Any] = {}
    for parameter in PARAMETERS[name]:
        if draw(st.booleans()):
            strategy = program_text if parameter == "program" else plausible | json_values
            args[parameter] = draw(strategy)
    if draw(st.integers(0, 4)) == 0:
        args[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return name, args


@pytest.fixture(scope="module")
def contexts() -> Iterator[list[ToolContext]]:
    scene = demo_scene()
    metadata_only = scene.model_copy(update={"id": "bare-room", "frames": ()})
    with make_sandbox("local", workers=1) as sandbox:
        yield [
            ToolContext(
                scene=s,
                sandbox=sandbox,
                request=TaskRequest("object_counting", 4),
                settings=ToolSettings(program_timeout_s=1.0),
                questions=QuestionRegistry(),
            )
            for s in (scene, metadata_only)
        ]


@pytest.fixture(scope="module")
def graph_and_queue() -> tuple[Any, list[Any]]:
    queue: list[Any] = []
    model = ScriptedChatModel(script=[lambda _messages: queue.pop()] * 10_000)
    return build_agent_graph(model, TOOLS, AgentLimits(max_tool_calls=1)), queue


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=tool_calls(), which=st.integers(0, 1))
def test_any_arguments_give_a_result_or_a_clear_error(
    graph_and_queue: tuple[Any, list[Any]],
    contexts: list[ToolContext],
    call: tuple[str, dict[str, Any]],
    which: int,
) -> None:
    graph, queue = graph_and_queue
    queue.append(tool_calls_reply(call))
    state = graph.invoke({"messages": [], "started_at": 0.0}, context=contexts[which])
    replies = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert len(replies) == 1
    reply = replies[0]
    text = reply.text.strip()
    assert text, f"empty reply to {call}"
    if reply.status == "error":
        assert text.startswith("Error"), text
        assert "Traceback" not in text
        assert "the tool failed with" not in text, f"unexpected exception for {call}: {text}"
    assert state.get("stop_reason") in {None, "tool_call_limit"}
    event(f"{call[0]}: {reply.status}")
