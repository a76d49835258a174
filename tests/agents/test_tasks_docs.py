"""docs/tasks.md: every task is documented, and "Adding a task type" is the whole checklist.

The page's own blocks (the task file, the registry lines, the docs row) are parsed here and
applied to a copy of the project; there the new task must propose, pass the sandbox and the
verifier, leave ProcSpatial unchanged, and pass the tests that list the tasks, none of
them edited. When the page and the code drift apart, these tests fail.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from agents.execution import execute
from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
from agents.records import Sample
from agents.tasks import TASKS
from agents.tasks.base import Task, program_constants
from agents.tasks.demo_scene import demo_scene
from agents.verifier import Verifier, VerifierConfig
from evaluation.procspatial_build import VERIFIER_CHECKS, build_procspatial
from scenes.schema import Scene
from tools.sandbox import make_sandbox

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "tasks.md"
REGISTRY = Path("agents/tasks/__init__.py")
TABLE = "## The tasks and their levels"
ADDING = "## Adding a task type"

#: The tests that list the registered tasks; a task added by the docs alone must pass them.
REGISTRY_TESTS = (
    "tests/agents/test_tasks_docs.py::test_every_registered_task_is_documented",
    "tests/agents/test_tasks_levels.py",
    "tests/agents/test_tasks_demo.py::test_every_task_proposes_and_passes_execution",
    "tests/agents/test_programmatic.py::test_is_a_proposer",
    "tests/agents/test_verifier_level.py::test_programmatic_proposals_pass_at_their_own_level",
    "tests/agents/test_verifier_blind.py::test_every_template_of_every_task_gives_the_others_back",
    "tests/agents/test_llm_prompt_sources.py",
    "tests/evaluation/test_procspatial.py::test_default_allocation_is_uniform_over_tasks_and_levels",
    "tests/evaluation/test_procspatial.py::test_vsibench_only_arms_keep_vsibench_question_types",
    "tests/evaluation/test_procspatial.py::test_a_newly_registered_task_changes_no_existing_version",
)

#: A small ProcSpatial build (the current version), compared before and after adding a task.
TINY_PROCSPATIAL = {
    "size": 40,
    "num_scenes": 2,
    "frames": 8,
    "width": 96,
    "height": 72,
    "question_frames": 4,
    "workers": 1,
    "progress": False,
}


@dataclass
class AddingSteps:
    """What "Adding a task type" tells a contributor to write, as the page states it."""

    task_path: str
    task_code: str
    registry_imports: list[str]
    registry_entries: list[str]
    docs_row: str


def _section(text: str, heading: str) -> str:
    """The text under `heading`, up to the next heading of any level."""
    assert heading in text, f"docs/tasks.md has no '{heading}' section"
    return re.split(r"\n#{1,6} ", text.split(heading, 1)[1], maxsplit=1)[0]


def adding_steps(text: str) -> AddingSteps:
    section = text.split(ADDING, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "'Adding a task type' shows the task file and the registry lines"
    task_code, registry = blocks
    path = task_code.splitlines()[0].removeprefix("# ")
    assert path.startswith("agents/tasks/") and path.endswith(".py"), path
    lines = [line for line in registry.splitlines() if line.strip()]
    (row,) = re.findall(r"```markdown\n(.*?)\n```", section, flags=re.S)
    return AddingSteps(
        task_path=path,
        task_code=task_code,
        registry_imports=[line for line in lines if line.startswith(("from ", "import "))],
        registry_entries=[line for line in lines if line.startswith(" ")],
        docs_row=row,
    )


def documented_tasks(text: str) -> list[str]:
    """The question types in the table of the tasks and their levels (first column)."""
    rows = [line for line in _section(text, TABLE).splitlines() if line.startswith("| `")]
    return [line.split("`")[1] for line in rows]


def _add_imports(source: str, imports: list[str]) -> str:
    """`imports` placed "with the others": in module order among the task imports."""
    lines = source.splitlines(keepends=True)
    for new in imports:
        module = new.split()[1]
        others = [
            node
            for node in ast.parse("".join(lines)).body
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("agents.tasks.")
        ]
        assert others, f"{REGISTRY} imports no tasks any more, unlike what docs/tasks.md says"
        after = [node.lineno for node in others if str(node.module).lower() > module.lower()]
        at = after[0] - 1 if after else int(others[-1].end_lineno or others[-1].lineno)
        lines.insert(at, new + "\n")
    return "".join(lines)


def apply_adding_steps(root: Path, steps: AddingSteps) -> None:
    """Do what the page says, in the project at `root`."""
    (root / steps.task_path).write_text(steps.task_code, encoding="utf-8")
    registry = _add_imports((root / REGISTRY).read_text(encoding="utf-8"), steps.registry_imports)
    closing = re.search(r"\nTASKS: .*?\n(    \)\n)", registry, flags=re.S)
    assert closing, f"{REGISTRY} no longer builds TASKS from a tuple, as docs/tasks.md says"
    at = closing.start(1)
    registry = registry[:at] + "\n".join(steps.registry_entries) + "\n" + registry[at:]
    (root / REGISTRY).write_text(registry, encoding="utf-8")
    doc = root / "docs" / "tasks.md"
    text = doc.read_text(encoding="utf-8")
    last_row = [line for line in _section(text, TABLE).splitlines() if line.startswith("| `")][-1]
    doc.write_text(text.replace(last_row + "\n", f"{last_row}\n{steps.docs_row}\n", 1))


@pytest.fixture(scope="module")
def steps() -> AddingSteps:
    return adding_steps(DOC.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def example(steps: AddingSteps) -> ModuleType:
    """The task file of 'Adding a task type', executed as a module."""
    module = ModuleType(Path(steps.task_path).stem)
    exec(compile(steps.task_code, str(DOC), "exec"), module.__dict__)
    return module


def _new_task(module: ModuleType) -> Task:
    (cls,) = [v for v in vars(module).values() if isinstance(v, type) and Task in v.__mro__[1:]]
    return cls()


def test_every_registered_task_is_documented() -> None:
    documented = documented_tasks(DOC.read_text(encoding="utf-8"))
    missing = [name for name in TASKS if name not in documented]
    assert not missing, f"add a row for {missing} to the table under '{TABLE}' in docs/tasks.md"
    stale = [name for name in documented if name not in TASKS]
    assert not stale, f"docs/tasks.md documents unregistered task types {stale}"


def test_the_steps_name_the_example_task(steps: AddingSteps, example: ModuleType) -> None:
    toy = _new_task(example)
    assert steps.registry_entries == [f"        {type(toy).__name__}(),"]
    assert steps.docs_row.startswith(f"| `{toy.name}` |")
    assert toy.name not in TASKS  # the example is not a shipped task


def _check_toy_samples(samples: list[Sample], scene: Scene) -> None:
    counts = scene.categories()
    for sample in samples:
        assert sample.verdict == "pending", sample.execution_error
        constants = program_constants(sample.proposal.program)
        more = max((constants["FIRST"], constants["SECOND"]), key=counts.__getitem__)
        letter = sample.proposal.option_letters[
            [o.partition(". ")[2] for o in sample.proposal.options].index(more)
        ]
        assert sample.ground_truth == letter


def test_the_documented_example_plugs_in_with_one_registry_line(example: ModuleType) -> None:
    toy = _new_task(example)
    registry = {**TASKS, toy.name: toy}  # what the registry line does
    proposer = ProgrammaticProposer(ProgrammaticConfig(tasks=[toy.name]), tasks=registry)
    assert proposer.arms() == [(toy.name, level) for level in range(1, 6)]
    scene = demo_scene()  # chairs: 3, every other category: 1
    batch = proposer.propose([scene], dict.fromkeys(proposer.arms(), 2))
    levels = {p.level for p in batch.proposals}
    assert levels == {4, 5}  # a difference of 2 (level 4) or 1 (level 5); 3+ does not exist
    assert batch.skipped_by_task()[toy.name]["no_pair_with_difference"] > 0
    with make_sandbox("local", workers=2) as sandbox:
        samples = execute(batch.proposals, {scene.id: scene}, sandbox)
    _check_toy_samples(samples, scene)


def check_added_task(name: str, reference_manifest: str) -> None:
    """Run inside the copy: the registered task proposes, its programs pass the sandbox and
    the verifier, and ProcSpatial's current version builds the reference manifest."""
    from agents.tasks import TASKS as registered

    assert list(registered)[-1] == name, list(registered)
    scene = demo_scene()
    proposer = ProgrammaticProposer(ProgrammaticConfig(tasks=[name]))
    batch = proposer.propose([scene], dict.fromkeys(proposer.arms(), 2))
    assert len(batch.proposals) >= 2, batch.skipped_by_task()
    with make_sandbox("local", workers=1) as sandbox:
        samples = execute(batch.proposals, {scene.id: scene}, sandbox)
        verifier = Verifier(VerifierConfig(checks=list(VERIFIER_CHECKS)), sandbox=sandbox)
        report = verifier.verify(samples, {scene.id: scene})
    verdicts = [(s.verdict, s.reason) for s in report.samples]
    assert verdicts == [("accepted", None)] * len(samples), verdicts
    _check_toy_samples(samples, scene)
    built = build_procspatial(Path(reference_manifest).parent.parent / "after", **TINY_PROCSPATIAL)
    after = json.loads((built / "manifest.json").read_text())
    before = json.loads(Path(reference_manifest).read_text())
    changed = sorted(
        key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
    )
    assert not changed, f"registering {name} changed ProcSpatial's current version: {changed}"


def _copy_project(target: Path) -> Path:
    """The packages, tests, docs and pyproject of this checkout (no caches, no .git)."""
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for entry in ROOT.iterdir():
        if (entry / "__init__.py").is_file() or entry.name in ("tests", "docs"):
            shutil.copytree(entry, target / entry.name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-4000:])


@pytest.mark.slow
def test_following_the_docs_adds_a_task_without_editing_a_test(
    steps: AddingSteps, example: ModuleType, tmp_path: Path
) -> None:
    before = build_procspatial(tmp_path / "before", **TINY_PROCSPATIAL)
    project = _copy_project(tmp_path / "project")
    apply_adding_steps(project, steps)
    name = _new_task(example).name
    call = (
        "import runpy, sys; "
        "runpy.run_path(sys.argv[1])['check_added_task'](sys.argv[2], sys.argv[3])"
    )
    added = [steps.task_path, str(REGISTRY)]
    _run([sys.executable, "-m", "ruff", "check", *added], project)
    _run([sys.executable, "-m", "ruff", "format", "--check", *added], project)
    module = str(project / "tests" / "agents" / "test_tasks_docs.py")
    _run([sys.executable, "-c", call, module, name, str(before / "manifest.json")], project)
    _run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *REGISTRY_TESTS],
        project,
    )
