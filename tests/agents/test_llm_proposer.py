"""The LLM proposer driven by a scripted tool-calling model through its real LangGraph graph.

The script plays a model that explores the demo room, looks at frames, runs a failing
program, fixes it and submits; the proposal is then executed and verified like any other.
Other scripts hit each limit, send malformed calls, raise transient and fatal model errors,
and exercise the re-check, so every way an attempt can end is seen with its reason.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.curriculum import ArmStats, DifficultyFeedback
from agents.execution import execute
from agents.proposers import (
    PROPOSERS,
    LLMProposer,
    LLMProposerConfig,
    Proposer,
    ProposerCommon,
    ProposerResources,
)
from agents.proposers.llm_agent import AgentLimits, portable_messages
from agents.proposers.llm_prompts import ProposerFeedback, request_prompt, system_prompt
from agents.proposers.llm_trajectory import read_trajectories
from agents.proposers.models import accepts_images, is_transient
from agents.proposers.scripted_model import ScriptedChatModel, tool_calls_reply
from agents.records import Proposal, Sample
from agents.tasks import TASKS
from agents.tasks.demo_scene import demo_scene
from agents.verifier import Verifier, VerifierConfig
from common.errors import UserError
from scenes.noise import save_with_noise_frames
from scenes.schema import Scene
from tools.sandbox import make_sandbox

BED = 1
BED_SIZE = (
    "import geometry as g\n\nOBJECT = 'bed'\n\ndef solve(scene):\n"
    "    return round(g.object_size(scene.unique(OBJECT)) * 100)\n"
)
BROKEN = BED_SIZE.replace("g.object_size", "g.object_sizes")
FAST = AgentLimits(retry_backoff_s=0.001, retry_backoff_max_s=0.002)


def submit_bed(**overrides: Any) -> AIMessage:
    args = {
        "question_type": "object_size_estimation",
        "question": "How long is the longest side of the bed, in centimetres?",
        "answer_kind": "numeric",
        "program": BED_SIZE,
        "stated_answer": "200",
        "referenced_instances": [BED],
    }
    return tool_calls_reply(("submit_proposal", args | overrides))


ARM = ("object_size_estimation", 4)


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenes") / "demo-room"
    save_with_noise_frames(demo_scene(), folder, width=80, height=60, seed=1)
    return folder


@pytest.fixture(scope="module")
def scene(scene_dir: Path) -> Scene:
    return Scene.load(scene_dir)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with make_sandbox("local", workers=1) as runner:
        yield runner


def proposer(
    script: list[Any], sandbox: Any, scene_dir: Path | None = None, **config: Any
) -> tuple[LLMProposer, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    settings = LLMProposerConfig(**({"limits": FAST} | config))
    dirs = {"demo-room": scene_dir} if scene_dir else None
    return LLMProposer(settings, model=model, sandbox=sandbox, scene_dirs=dirs), model


def test_explore_debug_submit_then_execute_and_verify(
    scene: Scene, scene_dir: Path, sandbox: Any, tmp_path: Path
) -> None:
    script = [
        tool_calls_reply(("list_categories", {}), ("describe_object", {"instance_id": BED})),
        tool_calls_reply(
            ("frames_showing", {"instance_id": BED}), ("view_frames", {"frame_indices": [2, 3]})
        ),
        tool_calls_reply(("run_program", {"program": BROKEN})),
        tool_calls_reply(("run_program", {"program": BED_SIZE})),
        submit_bed(),
    ]
    log = tmp_path / "trajectories.jsonl"
    llm, model = proposer(script, sandbox, scene_dir, multimodal="yes", trajectory_path=str(log))
    progress: list[int] = []
    batch = llm.propose([scene], {ARM: 1}, progress.append)

    assert progress == [1] and batch.proposer_id == "llm:scripted"
    [proposal] = batch.proposals
    assert proposal.stated_answer == "200" and proposal.proposer_id == "llm:scripted"
    assert batch.arms[0].proposed == 1 and batch.arms[0].skipped == {}
    # the model saw the failing run's error before fixing the program
    fix_call = model.received[3]
    assert "AttributeError" in fix_call[-1].text and "object_sizes" in fix_call[-1].text
    # frames reached the model as images in a user message after the tool results
    after_frames = model.received[2]
    image_turn = after_frames[-1]
    assert isinstance(image_turn, HumanMessage)
    assert sum(b.get("type") == "image" for b in image_turn.content) == 2
    assert all(isinstance(m.content, str) for m in after_frames if isinstance(m, ToolMessage))

    [sample] = execute(batch.proposals, {scene.id: scene}, sandbox)
    assert sample.verdict == "pending" and sample.ground_truth == "200"
    report = Verifier(VerifierConfig(), sandbox).verify(batch.proposals, {scene.id: scene})
    assert [s.verdict for s in report.samples] == ["accepted"], report.audits

    [trajectory] = read_trajectories(log)
    assert trajectory.outcome == "submitted" and trajectory.ground_truth == "200"
    assert trajectory.tool_calls == 7 and trajectory.errors == 0
    assert len(trajectory.model_calls) == 5 and trajectory.input_tokens == 500
    assert [c.tool_calls for c in trajectory.model_calls][2] == ["run_program"]
    text = log.read_text()
    assert "omitted_bytes" in text and "frames/0002.png" in text
    assert len(text) < 200_000  # image bytes are not stored


def test_malformed_output_is_sent_back_then_the_attempt_recovers(
    scene: Scene, sandbox: Any
) -> None:
    unreadable = AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "name": "run_program",
                "args": "{not json",
                "id": "bad1",
                "error": "bad JSON",
                "type": "invalid_tool_call",
            }
        ],
    )
    script = [
        AIMessage(content="I think the bed is 2 m long."),
        unreadable,
        tool_calls_reply(("describe_object", {"instance_id": "bed"})),
        submit_bed(),
    ]
    llm, model = proposer(script, sandbox)
    batch = llm.propose([scene], {ARM: 1})
    assert len(batch.proposals) == 1
    [trajectory] = llm.trajectories
    assert trajectory.errors == 3 and trajectory.outcome == "submitted"
    assert "did not call a tool" in model.received[1][-1].text
    assert "could not be read: bad JSON" in model.received[2][-1].text
    assert "valid integer" in model.received[3][-1].text


@pytest.mark.parametrize(
    ("limits", "script", "reason"),
    [
        (AgentLimits(max_errors=2), [AIMessage(content="hello")] * 3, "too_many_errors"),
        (
            AgentLimits(max_tool_calls=3),
            [tool_calls_reply(("room_info", {}))] * 3,
            "tool_call_limit",
        ),
        (AgentLimits(max_tokens=250), [tool_calls_reply(("room_info", {}))] * 3, "token_limit"),
        (AgentLimits(max_seconds=0.0), [tool_calls_reply(("room_info", {}))], "time_limit"),
        (AgentLimits(), [RuntimeError("the model crashed")], "model_error"),
    ],
)
def test_limits_and_failures_end_attempts_with_a_reason(
    scene: Scene, sandbox: Any, limits: AgentLimits, script: list[Any], reason: str
) -> None:
    llm, model = proposer(script, sandbox, limits=limits, attempts_per_proposal=1)
    batch = llm.propose([scene], {ARM: 1})
    assert batch.proposals == []
    assert batch.arms[0].skipped == {reason: 1}
    assert llm.trajectories[0].reason == reason and llm.trajectories[0].detail
    assert len(model.received) == len(script)


class Overloaded(Exception):
    status_code = 503


def test_transient_model_errors_are_retried_with_backoff(scene: Scene, sandbox: Any) -> None:
    script = [Overloaded("busy"), TimeoutError("slow"), submit_bed()]
    llm, _ = proposer(script, sandbox)
    assert len(llm.propose([scene], {ARM: 1}).proposals) == 1
    [call] = llm.trajectories[0].model_calls
    assert call.retries == 2 and call.errors[0].startswith("Overloaded")

    always_down = [Overloaded("busy")] * 3
    llm, _ = proposer(
        always_down,
        sandbox,
        limits=AgentLimits(model_retries=2, retry_backoff_s=0.001),
        attempts_per_proposal=1,
    )
    batch = llm.propose([scene], {ARM: 1})
    assert batch.arms[0].skipped == {"model_unavailable": 1}


def test_a_model_that_keeps_failing_stops_the_round_with_a_clear_error(
    scene: Scene, sandbox: Any
) -> None:
    llm, model = proposer(
        [PermissionError("401 bad key")] * 9, sandbox, max_consecutive_model_failures=3
    )
    with pytest.raises(UserError, match="failed 3 attempts in a row"):
        llm.propose([scene], {ARM: 5})
    assert len(model.received) == 3


def test_transient_errors_are_told_apart() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    assert is_transient(httpx.ReadTimeout("slow", request=request))
    assert is_transient(httpx.ConnectError("refused", request=request))
    assert is_transient(TimeoutError()) and is_transient(Overloaded())
    rate_limited = httpx.HTTPStatusError(
        "429", request=request, response=httpx.Response(429, request=request)
    )
    assert is_transient(rate_limited)
    bad_request = httpx.HTTPStatusError(
        "400", request=request, response=httpx.Response(400, request=request)
    )
    assert not is_transient(bad_request) and not is_transient(ValueError("bad"))


@pytest.mark.parametrize(("keep", "outcome"), [(True, "submitted"), (False, "withdrawn")])
def test_recheck_reviews_frames_question_and_answer(
    scene: Scene, scene_dir: Path, sandbox: Any, keep: bool, outcome: str
) -> None:
    verdict = tool_calls_reply(("give_verdict", {"keep": keep, "reason": "answerable by guessing"}))
    script = [submit_bed(), AIMessage(content="keep it"), verdict]
    llm, model = proposer(
        script,
        sandbox,
        scene_dir,
        recheck=True,
        recheck_frames=3,
        multimodal="yes",
        attempts_per_proposal=1,
    )
    batch = llm.propose([scene], {ARM: 1})
    [trajectory] = llm.trajectories
    assert trajectory.outcome == outcome and trajectory.recheck is not None
    assert len(batch.proposals) == int(keep)
    assert batch.arms[0].skipped == ({} if keep else {"withdrawn": 1})
    review = model.received[1][1]
    assert "Computed answer: 200" in review.content[0]["text"]
    assert sum(b.get("type") == "image" for b in review.content) == 3
    assert "give_verdict" in model.received[2][-1].text  # the tool-less reply was sent back
    assert [c.node for c in trajectory.model_calls] == ["agent", "recheck", "recheck"]


def test_each_attempt_of_a_slot_gets_another_scene(scene: Scene, sandbox: Any) -> None:
    other = scene.model_copy(update={"id": "demo-room-2"})
    script = [AIMessage(content="no")] * 2 + [submit_bed()]
    llm, _ = proposer(script, sandbox, limits=AgentLimits(max_errors=1), attempts_per_proposal=2)
    batch = llm.propose([scene, other], {ARM: 1})
    assert batch.arms[0].skipped == {"too_many_errors": 1}
    assert llm.trajectories[0].scene_id != batch.proposals[0].scene_id
    assert {t.scene_id for t in llm.trajectories} == {"demo-room", "demo-room-2"}


def test_concurrent_attempts_never_accept_the_same_question_twice(
    scene: Scene, sandbox: Any
) -> None:
    def resubmit(messages: list[Any]) -> AIMessage:
        """Submits the bed question; after each refusal, a reworded one."""
        refusals = sum(isinstance(m, ToolMessage) and m.status == "error" for m in messages)
        return submit_bed(question=f"How long is the bed's longest side in cm? ({refusals})")

    llm, model = proposer([resubmit] * 6, sandbox, concurrency=3)
    batch = llm.propose([scene], {ARM: 3})
    questions = [p.question for p in batch.proposals]
    assert len(questions) == 3 and len(set(questions)) == 3
    assert len(model.received) == 1 + 2 + 3  # each later attempt was refused once more
    assert sorted(t.errors for t in llm.trajectories) == [0, 1, 2]


def test_the_loop_builds_it_from_its_settings(scene: Scene, sandbox: Any, tmp_path: Path) -> None:
    bands = DifficultyFeedback(
        arms=[
            ArmStats(
                question_type=ARM[0],
                level=ARM[1],
                count=5,
                mean_confidence=0.02,
                mean_learnability=0.02,
                easy=0.0,
                frontier=0.2,
                hard=0.8,
            )
        ]
    )
    model = ScriptedChatModel(script=[submit_bed()])
    kind = PROPOSERS["llm"]
    common = ProposerCommon(seed=3, tasks=[ARM[0]], model="openai:unused", num_solver_frames=8)
    config = kind.make_config(common, {"limits": dataclasses.asdict(FAST), "recheck": False})
    assert (config.limits, config.tool_settings.num_solver_frames) == (FAST, 8)
    assert kind.arms_for(config) == [(ARM[0], lv) for lv in range(1, 6)]  # nothing built yet
    resources = ProposerResources(
        sandbox=sandbox, chat_model=model, trajectories=tmp_path / "t.jsonl", feedback=bands
    )
    llm = kind.from_config(config, resources)
    [proposal] = llm.propose([scene], {ARM: 1}).proposals
    assert len(proposal.frame_indices or []) == 8 and llm.arms() == [
        (ARM[0], lv) for lv in range(1, 6)
    ]
    assert "mostly too hard: make this question easier" in model.received[0][1].text
    assert len(read_trajectories(tmp_path / "t.jsonl")) == 1
    served = kind.from_config(
        kind.make_config(ProposerCommon(model="vllm:some/model@http://127.0.0.1:9/v1"), {})
    )
    assert served.proposer_id == "llm:some/model"


def test_prompts_carry_reference_task_menu_and_feedback(scene: Scene) -> None:
    sample = Sample.from_proposal(
        Proposal(
            scene_id="demo-room",
            question_type="object_counting",
            question="How many chair(s) are in this room?",
            answer_kind="numeric",
            program="def solve(scene):\n    return 3\n",
        )
    ).model_copy(update={"verdict": "accepted", "confidence": 0.97, "ground_truth": "3"})
    bands = DifficultyFeedback(
        arms=[
            ArmStats(
                question_type="object_counting",
                level=4,
                count=12,
                mean_confidence=0.95,
                mean_learnability=0.04,
                easy=0.9,
                frontier=0.1,
                hard=0.0,
            )
        ]
    )
    feedback = ProposerFeedback.from_samples([sample], bands=bands)
    system = system_prompt(TASKS, feedback)
    assert "## Geometry library reference" in system and "relative_direction_or_ambiguous" in system
    assert all(f"### {name}" in system for name in TASKS)
    assert (
        "Example: " in system and "| object_counting | 4 | 12 | 0.95 | 90% | 10% | 0% |" in system
    )
    assert "[object_counting L4, p=0.97] How many chair(s)" not in system  # sample is level 1
    assert "[object_counting L1, p=0.97] How many chair(s) are in this room?" in system
    request = request_prompt(scene, "object_counting", 4, feedback)
    assert "Task: object_counting, level 4" in request and "def solve(scene)" in request
    assert "mostly too easy: make this question harder" in request
    first_round = system_prompt(TASKS, None)
    assert "No feedback yet" in first_round


def test_the_prompt_geometry_reference_is_the_documented_one() -> None:
    root = Path(__file__).resolve().parents[2]
    packaged = root / "agents" / "proposers" / "prompts" / "geometry_api.txt"
    assert packaged.read_text() == (root / "docs" / "geometry_api.md").read_text(), (
        "docs/geometry_api.md changed: copy it to agents/proposers/prompts/geometry_api.txt"
    )


def test_portable_messages_move_images_after_the_tool_results() -> None:
    image = {
        "type": "image",
        "base64": "AAAA",
        "mime_type": "image/jpeg",
        "extras": {"frame_source": "f"},
    }
    call = tool_calls_reply(("view_frames", {"frame_indices": [1]}), ("room_info", {}))
    ids = [c["id"] for c in call.tool_calls]
    messages = [
        call,
        ToolMessage(content=[{"type": "text", "text": "Frame 1"}, image], tool_call_id=ids[0]),
        ToolMessage(content="room", tool_call_id=ids[1]),
        AIMessage(content="next"),
    ]
    prepared = portable_messages(messages)
    assert [type(m).__name__ for m in prepared] == [
        "AIMessage",
        "ToolMessage",
        "ToolMessage",
        "HumanMessage",
        "AIMessage",
    ]
    assert prepared[1].content.startswith("Frame 1") and "1 image(s) follow" in prepared[1].content
    assert prepared[3].content[1] == {"type": "image", "base64": "AAAA", "mime_type": "image/jpeg"}

    later = tool_calls_reply(("view_frames", {"frame_indices": [2]}))
    newer_image = image | {"base64": "BBBB"}
    messages += [
        later,
        ToolMessage(content=[newer_image], tool_call_id=later.tool_calls[0]["id"]),
    ]
    trimmed = portable_messages(messages, max_images=1)
    assert trimmed[3].content[1] == {"type": "text", "text": "[an older frame image, omitted]"}
    assert trimmed[-1].content[1]["base64"] == "BBBB"


def test_registry_protocol_and_image_support_detection(sandbox: Any) -> None:
    assert PROPOSERS["llm"] is LLMProposer
    llm, _ = proposer([], sandbox)
    assert isinstance(llm, Proposer) and ("route_planning", 5) in llm.arms()
    assert llm.multimodal is False  # "scripted" names no vision model
    assert accepts_images(ScriptedChatModel(model_name="Qwen/Qwen3-VL-8B-Instruct"))
    assert not accepts_images(ScriptedChatModel(model_name="Qwen/Qwen3-8B"))
    with pytest.raises(UserError, match="unknown task type"):
        LLMProposer(LLMProposerConfig(tasks=["object_countin"]), model=ScriptedChatModel())
    with pytest.raises(UserError, match="no arm"):
        llm.propose([demo_scene()], {("object_counting", 9): 1})
    assert json.loads(json.dumps(llm.config.limits.__dict__))["max_tool_calls"] == 30
