"""Adding an agent tool by docs/llm_proposer.md alone ("Adding a tool"), step by step.

The test writes the docs' first code block as a module of `agents.proposers.llm_tools` (in
a temporary folder added to the package's path), runs the second block (the registry
line), and checks what the docs promise: the proposer offers the tool to its chat model,
the system prompt lists it, and the agent runs it. It fails when the docs drift.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import agents.proposers.llm_tools as llm_tools
from agents.proposers.llm import LLMProposer, LLMProposerConfig
from agents.proposers.llm_prompts import system_prompt
from agents.proposers.llm_state import AgentLimits
from agents.proposers.llm_tools import TaskRequest
from agents.proposers.scripted_model import ScriptedChatModel, tool_calls_reply
from agents.tasks import TASKS
from agents.tasks.demo_scene import demo_scene
from tools.sandbox import make_sandbox

DOCS = Path(__file__).resolve().parents[2] / "docs" / "llm_proposer.md"
PACKAGE_DIR = Path(llm_tools.__file__).parent


def documented_steps() -> tuple[str, str, str]:
    """(module name, step 1's code, step 2's code) from the docs' "Adding a tool" section."""
    section = DOCS.read_text(encoding="utf-8").split("\n## Adding a tool\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "'Adding a tool' should show two steps: the module, the registry"
    header = re.fullmatch(r"# agents/proposers/llm_tools/(\w+)\.py", blocks[0].splitlines()[0])
    assert header, "step 1 should start with the module's path, '# agents/proposers/llm_tools/X.py'"
    return header.group(1), blocks[0], blocks[1]


@pytest.fixture
def documented_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Any]]:
    """The registry after following the docs; yields the new tool function."""
    module, code, registry_code = documented_steps()
    assert not (PACKAGE_DIR / f"{module}.py").exists(), (
        f"the docs' example module {module}.py exists in the package; the example must add a "
        "new tool, so give the docs' example another name"
    )
    (tmp_path / f"{module}.py").write_text(code, encoding="utf-8")
    monkeypatch.setattr(llm_tools, "__path__", [*llm_tools.__path__, str(tmp_path)])
    full_name = f"{llm_tools.__name__}.{module}"
    namespace: dict[str, Any] = {}
    try:
        exec(compile(registry_code, str(DOCS), "exec"), namespace)
        listed = namespace["AGENT_TOOLS"]
        assert listed.count(Ellipsis) == 1, "step 2's list should be [..., new_tool]"
        registry = [
            t for item in listed for t in (llm_tools.AGENT_TOOLS if item is ... else [item])
        ]
        added = [t for t in registry if t not in llm_tools.AGENT_TOOLS]
        assert len(added) == 1, f"step 2 should add one tool, it adds {added}"
        monkeypatch.setattr(llm_tools, "AGENT_TOOLS", registry)
        yield added[0]
    finally:
        sys.modules.pop(full_name, None)
        if hasattr(llm_tools, module):
            delattr(llm_tools, module)


def summary_of(function: Callable[..., Any]) -> str:
    """The docstring's summary line, which the prompt's tool list shows."""
    return (function.__doc__ or "").strip().splitlines()[0]


def test_the_docs_example_is_a_new_name() -> None:
    """Following the docs must not collide with a registered tool or a test's own example."""
    _, code, _ = documented_steps()
    name = re.search(r"^def (\w+)\(", code, flags=re.M)
    assert name is not None
    registered = {getattr(t, "__name__", getattr(t, "name", "")) for t in llm_tools.AGENT_TOOLS}
    assert name.group(1) not in registered | {"echo_category"}  # tests/agents/test_llm_tools.py


def test_a_tool_added_by_the_docs_reaches_the_model_the_prompt_and_the_scene(
    documented_tool: Callable[..., Any],
) -> None:
    name = documented_tool.__name__
    model = ScriptedChatModel(
        script=[
            tool_calls_reply((name, {"category": "chair"})),
            tool_calls_reply((name, {"category": "unicorn"})),
        ]
    )
    config = LLMProposerConfig(
        tasks=["object_abs_distance"], multimodal="no", limits=AgentLimits(max_tool_calls=2)
    )
    sandbox = make_sandbox("local", workers=1)  # started only if a program runs
    with sandbox, LLMProposer(config, model=model, sandbox=sandbox) as proposer:
        assert name in [t.name for t in proposer.tools]
        trajectory = proposer.attempt(demo_scene(), TaskRequest("object_abs_distance", 1))
    assert name in model.bound_tools  # the chat model was offered it
    system = model.received[0][0].text
    line = f"- {name}: {summary_of(documented_tool)}"
    assert line in system.splitlines()
    assert trajectory.reason == "tool_call_limit"  # both scripted calls ran
    replies = [m["data"] for m in trajectory.messages if m["type"] == "tool"]
    assert replies[0]["status"] != "error" and "chair" in replies[0]["content"]
    assert replies[1]["status"] == "error"  # the tool's ToolError reached the model
    # the default registry (no proposer) gives the same prompt line
    assert line in system_prompt({"object_counting": TASKS["object_counting"]}, None)


def test_without_the_docs_step_the_tool_is_not_offered() -> None:
    """The check above can fail: the unchanged registry neither offers nor lists the example."""
    module, code, _ = documented_steps()
    function = next(n for n in ast.parse(code).body if isinstance(n, ast.FunctionDef))
    system = system_prompt({"object_counting": TASKS["object_counting"]}, None)
    assert "- submit_proposal: Submit the finished question" in system
    assert f"- {function.name}:" not in system
    assert not hasattr(llm_tools, module) and f"{llm_tools.__name__}.{module}" not in sys.modules
