"""docs/tasks.md: every task is documented, and the "add a task type" example works as
written: its code block defines a task that one registry entry turns into proposals that
the sandbox answers correctly."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from agents.execution import execute
from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
from agents.tasks import TASKS
from agents.tasks.base import Task, program_constants
from agents.tasks.demo_scene import demo_scene
from tools.sandbox import make_sandbox

DOC = Path(__file__).resolve().parents[2] / "docs" / "tasks.md"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    """The python block of the 'Adding a task type' section, executed as a module."""
    section = DOC.read_text().split("## Adding a task type", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    module = ModuleType("count_comparison")
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    return module


def test_every_registered_task_is_documented() -> None:
    text = DOC.read_text()
    for name in TASKS:
        assert f"`{name}`" in text, name


def test_the_documented_example_plugs_in_with_one_registry_line(example: ModuleType) -> None:
    toy: Task = example.CountComparison()
    registry = {**TASKS, toy.name: toy}  # the one registry line
    proposer = ProgrammaticProposer(ProgrammaticConfig(tasks=[toy.name]), tasks=registry)
    assert proposer.arms() == [(toy.name, level) for level in range(1, 6)]
    scene = demo_scene()  # chairs: 3, every other category: 1
    batch = proposer.propose([scene], dict.fromkeys(proposer.arms(), 2))
    levels = {p.level for p in batch.proposals}
    assert levels == {4, 5}  # a difference of 2 (level 4) or 1 (level 5); 3+ does not exist
    assert batch.skipped_by_task()[toy.name]["no_pair_with_difference"] > 0
    with make_sandbox("local", workers=2) as sandbox:
        samples = execute(batch.proposals, {scene.id: scene}, sandbox)
    counts = scene.categories()
    for sample in samples:
        assert sample.verdict == "pending", sample.execution_error
        constants = program_constants(sample.proposal.program)
        more = max((constants["FIRST"], constants["SECOND"]), key=counts.__getitem__)
        letter = sample.proposal.option_letters[
            [o.partition(". ")[2] for o in sample.proposal.options].index(more)
        ]
        assert sample.ground_truth == letter
