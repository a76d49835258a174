"""A recorded-style trajectory replayed through the real agent graph over HTTP.

An OpenAI-compatible server on 127.0.0.1 answers from a script of the tool calls a capable
model makes on a rendered procedural room: it explores with every tool, makes one mistake
per tool that takes arguments (a wrong category, a missing id, the same object twice, a
missing frame, five frames at once, an empty program, a malformed call), submits a
question of the wrong level, reads the verdict, and resubmits one at the requested level.
The test checks what the model is told at each step, then verifies the round and renders
the run report, where the rejected level shows up as `wrong_level`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.proposers import LLMProposer, LLMProposerConfig
from agents.proposers.llm_agent import AgentLimits
from agents.records import Proposal
from agents.tasks import TASKS, TaskContext
from agents.tasks.base import program_constants, uniform_frames
from agents.verifier import Verifier
from graphs.report import build_report
from graphs.store import RunStore
from scenes.procedural import write_scene
from scenes.schema import Scene
from tests.agents.test_llm_proposer_http import MODEL, FakeOpenAIServer, calls
from tools.sandbox import make_sandbox

ARM = ("object_rel_distance", 5)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scene, Path]:
    folder = write_scene(0, tmp_path_factory.mktemp("scenes") / "proc_000000", 24, 128, 96)
    return Scene.load(folder), folder


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with make_sandbox("local", workers=1) as runner:
        yield runner


def _submission(proposal: Proposal, answer: str) -> dict[str, Any]:
    return {
        "question_type": proposal.question_type,
        "question": proposal.question,
        "options": proposal.options,
        "answer_kind": proposal.answer_kind,
        "program": proposal.program,
        "stated_answer": answer,
        "referenced_instances": proposal.referenced_instances,
    }


def malformed_call(_body: dict[str, Any]) -> dict[str, Any]:
    bad = {"name": "run_program", "arguments": '{"program": "def solve(scene):'}
    return {"tool_calls": [{"id": "call_bad", "type": "function", "function": bad}]}


def test_a_realistic_trajectory_with_one_mistake_per_tool(
    room: tuple[Scene, Path], sandbox: Any, tmp_path: Path
) -> None:
    scene, folder = room
    easy, hard = (
        TASKS[ARM[0]].propose(TaskContext.build(scene, rng=random.Random(0)), level)
        for level in (1, 5)
    )
    answers = {p.level: str(sandbox.run(p.program, scene).value) for p in (easy, hard)}
    primary = next(
        o for o in scene.objects if o.category == program_constants(hard.program)["PRIMARY"]
    )
    other = next(o for o in scene.objects if o.instance_id != primary.instance_id)
    frames = uniform_frames(scene, 16)
    assert frames is not None
    script = [
        calls(("list_categories", {}), ("room_info", {})),
        calls(("list_objects", {"category": "unicorn"})),
        calls(("list_objects", {"category": primary.category})),
        calls(("describe_object", {"instance_id": 9999})),
        calls(("describe_object", {"instance_id": primary.instance_id})),
        calls(
            (
                "measure_between",
                {"instance_a": primary.instance_id, "instance_b": primary.instance_id},
            )
        ),
        calls(
            (
                "measure_between",
                {"instance_a": primary.instance_id, "instance_b": other.instance_id},
            )
        ),
        calls(
            ("frames_showing", {"instance_id": 9999}),
            ("frames_showing", {"instance_id": primary.instance_id}),
        ),
        calls(("camera_pose", {"frame_index": 999}), ("camera_pose", {"frame_index": frames[3]})),
        calls(
            (
                "check_route_leg",
                {"from_instance": primary.instance_id, "to_instance": primary.instance_id},
            ),
            (
                "check_route_leg",
                {"from_instance": primary.instance_id, "to_instance": other.instance_id},
            ),
        ),
        calls(("view_frames", {"frame_indices": frames[:5]})),
        calls(("view_frames", {"frame_indices": frames[:2]})),
        calls(("run_program", {"program": "   "})),
        calls(("run_program", {"program": easy.program})),
        calls(("submit_proposal", _submission(easy, answers[1]))),  # a level-1 question
        malformed_call,
        calls(("run_program", {"program": hard.program})),
        calls(("submit_proposal", _submission(hard, answers[5]))),
    ]
    with FakeOpenAIServer(script, max_requests=len(script) + 2, lifetime_s=120) as server:
        config = LLMProposerConfig(
            model=f"vllm:{MODEL}@{server.url}",
            tasks=[ARM[0]],
            attempts_per_proposal=1,
            limits=AgentLimits(max_errors=12, max_tool_calls=40),
            trajectory_path=str(tmp_path / "audit.jsonl"),
        )
        llm = LLMProposer(config, sandbox=sandbox, scene_dirs={scene.id: folder})
        batch = llm.propose([scene], {ARM: 1})

    assert len(server.requests) == len(script)
    request = server.requests[0]["messages"][1]["content"]
    assert "the solver sees only these 16 frames" in request and str(frames) in request
    assert "How the level check measures it" in request and "min_gap_m=0.15" in request
    told = [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    expected = [
        "no objects of category 'unicorn'",
        "there is no object with instance_id 9999",
        "pass two different ids",
        "first clearly visible in frame",
        "there is no frame 999",
        "pass two ids",
        "at most 4 can be shown per call",
        "program is empty",
        "not accepted: the level check rejects it (wrong_level)",
        "could not be read",
    ]
    for phrase in expected:
        assert any(phrase in text for text in told), phrase
    assert any(re.search(r"px \(\d+\.\d% of the image, box x \d+-\d+", t) for t in told)
    images = [
        p
        for m in server.requests[12]["messages"]
        if m["role"] == "user" and isinstance(m["content"], list)
        for p in m["content"]
        if p["type"] == "image_url"
    ]
    assert len(images) == 2

    [trajectory] = llm.trajectories
    assert trajectory.outcome == "submitted" and trajectory.errors == 10
    assert "passed the execution" in json.dumps(trajectory.messages)
    [proposal] = batch.proposals
    assert (proposal.question, proposal.level) == (hard.question, 5)

    # The round goes through the verifier; the rejected level-1 question, had it been kept,
    # is what the report counts as wrong_level.
    relabelled = easy.model_copy(update={"level": 5, "frame_indices": proposal.frame_indices})
    report = Verifier(sandbox=sandbox).verify([proposal, relabelled], {scene.id: scene})
    assert [s.verdict for s in report.samples] == ["accepted", "rejected"]
    assert report.samples[1].reason == "wrong_level" and report.audits[1].check == "level"
    store = RunStore(tmp_path / "run")
    store.write_config({"preset": "cpu-tiny", "loop": {"iterations": 1}})
    store.write_samples(store.samples_path(0), report.samples)
    assert "wrong_level" in build_report(store.root).read_text(encoding="utf-8")
