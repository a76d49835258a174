"""Answers and messages a hostile program can produce must become rejected samples with a
clear reason, never an exception in the loop: through `execute`, through the Parquet writer,
and through a resumed run whose proposals on disk hold such programs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.execution import ExecutionReason, execute, sample_from_result
from agents.records import Proposal
from agents.sample_io import read_samples, write_samples
from agents.tasks.demo_scene import demo_scene
from graphs.config import RunConfig
from graphs.nodes import execute_verify
from graphs.runtime import LoopRuntime
from graphs.store import RunStore
from scenes.schema import Scene
from tools.sandbox import ErrorKind, ExecutionResult, make_sandbox
from tools.sandbox.base import json_value_problem, result_from_reply

NORMAL = "def solve(scene):\n    return scene.count('chair')"

# name -> a program whose answer or error text is hostile to the host side
HOSTILE_ANSWERS = {
    "huge int": "def solve(scene):\n    return 10 ** 400",
    "huge int in a list": "def solve(scene):\n    return [1, 10 ** 4000]",
    "NaN": "def solve(scene):\n    return float('nan')",
    "lone surrogate": "def solve(scene):\n    return 'ch\\udc80air'",
    "surrogate key": "def solve(scene):\n    return {'\\ud800': 1}",
    "deep nesting": "def solve(scene):\n    v = 1\n    for _ in range(5000):\n"
    "        v = [v]\n    return v",
    "huge string": "def solve(scene):\n    return 'x' * (900 * 1024)",
    "exception with surrogates": "def solve(scene):\n    raise ValueError('bad \\udc80\\ud800 text')",
    "exception with huge text": "def solve(scene):\n    raise ValueError('\\udcff' * 10 ** 6)",
    "print surrogates": "def solve(scene):\n    print('\\udc80' * 100)\n    return 'nope'",
}


def _proposal(program: str) -> Proposal:
    return Proposal(
        scene_id="demo-room",
        question_type="object_counting",
        question=f"How many chairs? ({program[-24:]})",
        options=[],
        answer_kind="numeric",
        level=4,  # numeric counting of 2-4 instances: the demo room has 3 chairs
        program=program,
    )


@pytest.fixture(scope="module")
def scene() -> Scene:
    return demo_scene()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    with make_sandbox("local", workers=1) as runner:
        yield runner


def test_hostile_answers_become_rejected_samples_and_write_to_parquet(
    scene: Scene, sandbox: object, tmp_path: Path
) -> None:
    proposals = [_proposal(p) for p in HOSTILE_ANSWERS.values()] + [_proposal(NORMAL)]
    samples = execute(proposals, {scene.id: scene}, sandbox)  # type: ignore[arg-type]
    *hostile, normal = samples
    for name, sample in zip(HOSTILE_ANSWERS, hostile, strict=True):
        assert sample.verdict == "rejected", (name, sample)
        assert sample.reason in {r.value for r in ExecutionReason}, (name, sample)
        assert sample.execution_error, (name, sample)
        sample.execution_error.encode("utf-8")  # storable
    chairs = sum(o.category == "chair" for o in scene.objects)
    assert normal.verdict == "pending" and normal.ground_truth == str(chairs)
    path = write_samples(samples, tmp_path / "samples.parquet")
    back = read_samples(path)
    assert [s.sample_id for s in back] == [s.sample_id for s in samples]
    assert back[-1].ground_truth == normal.ground_truth


@pytest.mark.parametrize(
    "value",
    [10**400, float("nan"), math.inf, "a\udc80", {"\ud800": 1}, [[[[1]]]] * 1, True],
)
def test_values_from_any_sandbox_never_raise_in_sample_from_result(value: object) -> None:
    result = ExecutionResult.model_construct(value=value, error_kind=ErrorKind.NONE)
    sample = sample_from_result(_proposal(NORMAL), result)
    if value == [[[[1]]]]:  # plain data, only the wrong kind of answer
        assert sample.reason == ExecutionReason.BAD_ANSWER.value
    assert sample.verdict == "rejected", sample
    assert sample.reason == ExecutionReason.BAD_ANSWER.value


def test_a_forged_reply_is_checked_field_by_field() -> None:
    deep: object = 1
    for _ in range(100):
        deep = [deep]
    for value in (float("nan"), 10**500, "\udc80", deep):
        assert json_value_problem(value)
        result = result_from_reply({"kind": "none", "value": value}, duration_s=0.0, sandbox="x")
        assert result.error_kind is ErrorKind.NON_JSON, result
        result.model_dump_json()
    message = result_from_reply(
        {"kind": "exception", "message": "x\udc80", "stdout": "\ud800"}, duration_s=0, sandbox="x"
    )
    assert message.model_dump_json() and "\\udc80" in message.error_message


def test_resuming_a_run_whose_proposals_hold_hostile_programs(scene: Scene, tmp_path: Path) -> None:
    """A killed run left its proposals on disk; resuming runs `execute_verify` on them in a
    fresh process (here: a fresh runtime). It must write every sample, twice alike."""
    config = RunConfig.model_validate(
        {"verifier": {"blind_check": False}, "sandbox": {"workers": 1}}
    )
    store = RunStore(tmp_path / "run")
    proposals = [_proposal(p) for p in HOSTILE_ANSWERS.values()] + [_proposal(NORMAL)]
    store.write_proposals(0, scene.id, proposals)
    outcomes = []
    for attempt in range(2):  # the resumed run, then a second resume after losing its output
        runtime = LoopRuntime(config=config, store=store, quiet=True)
        runtime._scenes = {scene.id: scene}
        try:
            assert execute_verify({"iteration": 0, "solver_checkpoint": ""}, runtime) == {}
        finally:
            runtime.close()
        samples = read_samples(store.samples_path(0))
        outcomes.append([(s.verdict, s.reason, s.execution_error) for s in samples])
        if attempt == 0:
            store.samples_path(0).unlink()
    assert outcomes[0] == outcomes[1] and len(outcomes[0]) == len(proposals)
    *hostile, normal = outcomes[0]
    assert all(verdict == "rejected" for verdict, _, _ in hostile), hostile
    assert normal[0] == "accepted", normal
