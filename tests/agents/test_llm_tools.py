"""The proposer's tools on the hand-built demo room, called through the real agent graph.

Every call goes model -> ToolNode -> tally in `build_agent_graph`, with the scene handed in
as runtime context, so these tests also check the injection and the error handling the
agent relies on. Numbers are known by hand from agents/tasks/demo_scene.py.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain.tools import ToolRuntime
from langchain_core.messages import ToolMessage
from PIL import Image

from agents.proposers.llm_agent import AgentLimits, build_agent_graph
from agents.proposers.llm_tools import (
    AGENT_TOOLS,
    QuestionRegistry,
    TaskRequest,
    ToolContext,
    ToolError,
    ToolSettings,
    build_tools,
)
from agents.proposers.scripted_model import ScriptedChatModel, tool_calls_reply
from agents.tasks.demo_scene import demo_scene
from scenes.noise import save_with_noise_frames
from scenes.schema import Scene
from tools.sandbox import make_sandbox

COUNT_CHAIRS = "import geometry as g\n\ndef solve(scene):\n    return scene.count('chair')\n"
BED, SOFA, TV, TABLE, LAMP = 1, 2, 3, 4, 5


class ToolCaller:
    """Calls tools through one compiled agent graph; the scripted model issues each call."""

    def __init__(self, functions: Sequence[Callable[..., Any]] = AGENT_TOOLS) -> None:
        self.pending: list[Any] = []
        model = ScriptedChatModel(script=[lambda _messages: self.pending.pop()] * 10_000)
        self.graph = build_agent_graph(model, build_tools(functions), AgentLimits(max_tool_calls=1))

    def __call__(self, context: ToolContext, name: str, args: dict[str, Any]) -> ToolMessage:
        self.pending.append(tool_calls_reply((name, args)))
        state = self.graph.invoke({"messages": [], "started_at": 0.0}, context=context)
        replies = [m for m in state["messages"] if isinstance(m, ToolMessage)]
        assert len(replies) == 1, state["messages"]
        return replies[0]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with make_sandbox("local", workers=1) as runner:
        yield runner


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo room saved with a (noise) image per frame, so view_frames has files to show."""
    folder = tmp_path_factory.mktemp("scenes") / "demo-room"
    save_with_noise_frames(demo_scene(), folder, width=320, height=240, seed=0)
    return folder


@pytest.fixture(scope="module")
def scene(scene_dir: Path) -> Scene:
    return Scene.load(scene_dir)


@pytest.fixture(scope="module")
def call() -> ToolCaller:
    return ToolCaller()


@pytest.fixture
def context(scene: Scene, scene_dir: Path, sandbox: Any) -> ToolContext:
    return ToolContext(
        scene=scene,
        sandbox=sandbox,
        scene_dir=scene_dir,
        request=TaskRequest("object_counting", 4),
        questions=QuestionRegistry(),
    )


def ok(message: ToolMessage) -> str:
    assert message.status != "error", message.content
    return message.text


def error(message: ToolMessage) -> str:
    assert message.status == "error", message.content
    return message.text


def test_scene_queries_report_the_rooms_known_numbers(
    call: ToolCaller, context: ToolContext
) -> None:
    categories = ok(call(context, "list_categories", {}))
    assert "chair: 3" in categories and "bed: 1 (unique)" in categories
    assert "chair: 3 (unique)" not in categories
    chairs = ok(call(context, "list_objects", {"category": "chair"}))
    assert chairs.count("chair at") == 3 and "id 7:" in chairs
    bed = ok(call(context, "describe_object", {"instance_id": BED}))
    assert "extents (2.00, 1.60, 0.60)" in bed and "200 cm" in bed
    # sofa x 3.5..5.5, y 0.15..1.05; table x 2.4..3.6, y 2.1..2.9: closest points 1.05 m apart in y
    measured = ok(call(context, "measure_between", {"instance_a": SOFA, "instance_b": TABLE}))
    assert "closest-point distance 1.05 m" in measured
    room = ok(call(context, "room_info", {}))
    assert "floor area 30.0 m^2" in room and "height 2.80 m" in room and "24 camera frames" in room
    first_plant = ok(call(context, "frames_showing", {"instance_id": 6}))
    assert "first clearly visible in frame 0" in first_plant
    pose = ok(call(context, "camera_pose", {"frame_index": 0}))
    assert "frame 0 at t=0.00 s" in pose and "camera position (5.20, 2.50, 1.50)" in pose


@pytest.mark.parametrize(
    ("name", "args", "says"),
    [
        ("describe_object", {"instance_id": 99}, "valid ids are 1-10"),
        ("describe_object", {"instance_id": "the bed"}, "instance_id"),
        ("describe_object", {}, "instance_id"),
        ("measure_between", {"instance_a": 1, "instance_b": 1}, "same object"),
        ("list_objects", {"category": "piano"}, "categories are"),
        ("camera_pose", {"frame_index": 24}, "frame indices are 0-23"),
        ("view_frames", {"frame_indices": []}, "is empty"),
        ("view_frames", {"frame_indices": [0, 1, 2, 3, 4]}, "at most 4"),
        ("run_program", {"program": "   "}, "program is empty"),
        ("no_such_tool", {}, "not a valid tool"),
    ],
)
def test_mistakes_come_back_as_clear_tool_errors(
    call: ToolCaller, context: ToolContext, name: str, args: dict[str, Any], says: str
) -> None:
    assert says in error(call(context, name, args))


def test_view_frames_gives_images_to_multimodal_models_and_text_to_others(
    call: ToolCaller, context: ToolContext
) -> None:
    reply = call(context, "view_frames", {"frame_indices": [0, 5]})
    images = [b for b in reply.content if isinstance(b, dict) and b["type"] == "image"]
    assert len(images) == 2
    decoded = Image.open(io.BytesIO(base64.b64decode(images[0]["base64"])))
    assert decoded.format == "JPEG" and max(decoded.size) <= ToolSettings().frame_size
    assert "Frame 0 (t=0.0 s)" in reply.content[0]["text"]

    context.settings = ToolSettings(multimodal=False)
    text = ok(call(context, "view_frames", {"frame_indices": [0]}))
    assert "Frame 0" in text and "plant (id 6" in text

    context.settings = ToolSettings(multimodal=True)
    context.scene_dir = None  # no folder: the images cannot be found, say so
    described = call(context, "view_frames", {"frame_indices": [2]})
    assert all(b["type"] == "text" for b in described.content)
    assert "no image files for frames [2]" in described.content[-1]["text"]


def test_run_program_reports_values_and_program_errors(
    call: ToolCaller, context: ToolContext
) -> None:
    assert "returned 3" in ok(call(context, "run_program", {"program": COUNT_CHAIRS}))
    broken = ok(call(context, "run_program", {"program": "def solve(scene):\n    return 1/0\n"}))
    assert broken.startswith("failed (exception)") and "ZeroDivisionError" in broken
    ambiguous = "import geometry as g\ndef solve(scene):\n    return scene.unique('chair')\n"
    assert "too close to call" in ok(call(context, "run_program", {"program": ambiguous}))


def submit_args(**overrides: Any) -> dict[str, Any]:
    args = {
        "question_type": "object_counting",
        "question": "How many chairs are in this room?",
        "answer_kind": "numeric",
        "program": COUNT_CHAIRS,
        "stated_answer": "3",
        "referenced_instances": [7, 8, 9],
        "frame_indices": SOLVER_FRAMES,
    }
    return args | overrides


#: 16 frames in which every chair is clearly visible at least once (chair 7 in 16-17).
SOLVER_FRAMES = list(range(2, 18))


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"question_type": "room_size_estimation"}, "you were asked for a 'object_counting'"),
        ({"answer_kind": "multiple_choice", "options": ["A. 3", "B. 5"]}, "asks for a numeric"),
        ({"stated_answer": "5"}, "differs from the program's 3"),
        ({"stated_answer": "three"}, "not a number"),
        ({"program": "def solve(scene):\n    return 'x'\n"}, "finite number"),
        ({"program": "def solve(scene)\n    return 3\n"}, "failed (syntax)"),
        ({"referenced_instances": [42]}, "no object with instance_id 42"),
        ({"frame_indices": [0, 99]}, "no frame 99"),
        ({"question": "  "}, "question"),
    ],
)
def test_submit_proposal_sends_problems_back(
    call: ToolCaller, context: ToolContext, overrides: dict[str, Any], says: str
) -> None:
    assert says in error(call(context, "submit_proposal", submit_args(**overrides)))


def test_submit_proposal_sets_the_submission_once_per_question(
    context: ToolContext, scene: Scene
) -> None:
    caller = ToolCaller()
    caller.pending.append(tool_calls_reply(("submit_proposal", submit_args())))
    state = caller.graph.invoke({"messages": [], "started_at": 0.0}, context=context)
    submission = state["submission"]
    assert submission.ground_truth == "3" and submission.executed_value == 3
    proposal = submission.proposal
    assert proposal.level == 4 and proposal.stated_answer == "3" and proposal.scene_id == scene.id
    assert proposal.referenced_instances == [7, 8, 9] and len(proposal.frame_indices or []) == 16
    again = caller(context, "submit_proposal", submit_args())
    assert "already asked this round" in error(again)


def test_multiple_choice_submission_accepts_letter_or_option_text(
    call: ToolCaller, context: ToolContext
) -> None:
    context.request = TaskRequest("object_counting", 1)
    program = COUNT_CHAIRS.replace(
        "return scene.count('chair')", "return str(scene.count('chair'))"
    )
    args = submit_args(
        answer_kind="multiple_choice", options=["A. 1", "B. 3", "C. 6", "D. 10"], program=program
    )
    assert "answer is B" in ok(call(context, "submit_proposal", args | {"stated_answer": "B"}))
    args["question"] = "What is the number of chairs in the room?"
    assert "answer is B" in ok(call(context, "submit_proposal", args | {"stated_answer": "3"}))


def echo_category(category: str, runtime: ToolRuntime[ToolContext]) -> str:
    """Repeat a category name if the room has it (this test's own example tool; the docs'
    example, added by tests/agents/test_llm_tools_docs.py, has another name).

    Args:
        category: A lower-case category name, e.g. "chair".
    """
    if not runtime.context.view.has(category):
        raise ToolError(f"no {category!r} here; call list_categories")
    return category


def test_an_extra_tool_is_offered_with_its_documented_arguments(context: ToolContext) -> None:
    tools = build_tools([*AGENT_TOOLS, echo_category])
    added = next(t for t in tools if t.name == "echo_category")
    schema = added.tool_call_schema.model_json_schema()
    assert schema["properties"]["category"]["description"].startswith("A lower-case category")
    assert "runtime" not in schema["properties"]  # the scene is injected, not asked for
    caller = ToolCaller([*AGENT_TOOLS, echo_category])
    assert ok(caller(context, "echo_category", {"category": "chair"})) == "chair"
    assert "call list_categories" in error(caller(context, "echo_category", {"category": "x"}))


def test_tool_lists_must_be_usable(context: ToolContext) -> None:
    with pytest.raises(ValueError, match="submit_proposal"):
        build_tools([echo_category])
    with pytest.raises(ValueError, match="share the name"):
        build_tools([*AGENT_TOOLS, echo_category, echo_category])

    def undocumented(category: str) -> str:
        """Count things."""
        return category

    with pytest.raises(ValueError, match=r"'undocumented'.*an 'Args:' section"):
        build_tools([*AGENT_TOOLS, undocumented])


def test_check_route_leg_says_which_furniture_blocks_a_straight_leg(
    call: ToolCaller, context: ToolContext
) -> None:
    # bed (1, 3.5) -> tv (5.85, 3.0) passes the chair at (3, 3.3); sofa -> lamp runs along
    # the wall below every other piece of furniture.
    blocked = ok(call(context, "check_route_leg", {"from_instance": BED, "to_instance": TV}))
    assert "BLOCKED by chair (id 8)" in blocked and "shortest walk around obstacles" in blocked
    clear = ok(call(context, "check_route_leg", {"from_instance": SOFA, "to_instance": LAMP}))
    assert ": clear (straight 4.10 m" in clear


def test_frames_showing_marks_the_first_clear_frame_among_those_listed(
    call: ToolCaller, context: ToolContext
) -> None:
    text = ok(call(context, "frames_showing", {"instance_id": TV}))  # 0.26 % in frame 19
    first = int(re.search(r"first clearly visible in frame (\d+)", text).group(1))  # type: ignore[union-attr]
    assert re.search(rf"^frame {first}: \d+ px .*; clearly visible$", text, flags=re.M)
    earlier = re.findall(r"^frame (\d+):.*not clearly visible", text, flags=re.M)
    assert earlier and all(int(i) < first for i in earlier)


def test_submission_verdicts_name_the_check(call: ToolCaller, context: ToolContext) -> None:
    unseen = submit_args(frame_indices=list(range(16)))  # chair 7 shows only in frames 16-17
    says = error(call(context, "submit_proposal", unseen))
    assert "the grounding check rejects it (not_grounded)" in says and "chair #7" in says
    context.request = TaskRequest("object_counting", 5)  # 3 chairs: a level-4 count
    says = error(call(context, "submit_proposal", submit_args()))
    assert "level check rejects it (wrong_level)" in says and ">= 5 instances" in says
    context.request = TaskRequest("obj_appearance_order", 1)
    program = "import geometry as g\n\nFRAMES = [0, 1, 2]\n\ndef solve(scene):\n    return 'A'\n"
    args = submit_args(
        question_type="obj_appearance_order",
        answer_kind="multiple_choice",
        options=["A. bed, tv, sofa", "B. tv, bed, sofa"],
        program=program,
        stated_answer="A",
    )
    assert "are not the frames the solver sees" in error(call(context, "submit_proposal", args))
