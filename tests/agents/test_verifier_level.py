"""The `level` check: programmatic proposals pass at their own level and fail at others;
programs without the constants their level is measured from are told what to define."""

from __future__ import annotations

import sys

import pytest

import tools.geometry
from agents.execution import ground_truth
from agents.proposers import ProgrammaticProposer
from agents.records import Proposal, Sample
from agents.tasks import TASKS, Task
from agents.tasks.demo_scene import demo_scene
from agents.tasks.levels import CannotMeasure, band_problem, level_problem
from agents.verifier.base import CheckContext
from agents.verifier.level import LevelCheck, LevelCheckConfig
from agents.verifier.reasons import RejectReason, check_of
from scenes.procedural import generate_scene
from scenes.schema import Scene


def _answer(program: str, view: tools.geometry.SceneView) -> object:
    namespace: dict[str, object] = {}
    previous = sys.modules.get("geometry")
    sys.modules["geometry"] = tools.geometry  # as the sandbox ships it
    try:
        exec(compile(program, "<program>", "exec"), namespace)
        return namespace["solve"](view)  # type: ignore[operator]
    finally:
        if previous is None:
            sys.modules.pop("geometry", None)


@pytest.fixture(scope="module")
def samples() -> tuple[list[Sample], dict[str, Scene]]:
    scenes = [demo_scene()] + [
        generate_scene(s, frames=24, width=96, height=72).scene for s in (0, 1)
    ]
    proposer = ProgrammaticProposer()
    proposals = proposer.propose(scenes, dict.fromkeys(proposer.arms(), 2)).proposals
    by_id = {s.id: s for s in scenes}
    views = {s.id: tools.geometry.SceneView(s) for s in scenes}
    result = []
    for p in proposals:
        truth = ground_truth(p, _answer(p.program, views[p.scene_id]))
        result.append(Sample.from_proposal(p).model_copy(update={"ground_truth": truth}))
    return result, by_id


def _check(samples: list[Sample], scenes: dict[str, Scene], config=None) -> list:
    return LevelCheck(config).run(samples, CheckContext(scenes=scenes))


def test_programmatic_proposals_pass_at_their_own_level(samples) -> None:
    items, scenes = samples
    assert len(items) > 60
    findings = _check(items, scenes)
    problems = [
        (s.proposal.question_type, s.proposal.level, f.detail)
        for s, f in zip(items, findings, strict=True)
        if f is not None and f.reason is not None
    ]
    assert problems == []


def test_the_same_question_at_another_level_is_wrong_level(samples) -> None:
    items, scenes = samples
    moved: list[Sample] = []
    for sample in items:
        p = sample.proposal
        task = TASKS[p.question_type]
        if type(task).measure_level is Task.measure_level:  # format and counts only
            continue
        other = 5 if p.level == 1 else 1
        if other not in task.levels:
            continue
        moved.append(sample.model_copy(update={"proposal": p.model_copy(update={"level": other})}))
    findings = _check(moved, scenes)
    rejected = [f for f in findings if f is not None and f.reason is RejectReason.WRONG_LEVEL]
    kinds = {s.proposal.question_type for s in moved}
    assert {"object_rel_direction_hard", "object_rel_distance", "route_planning"} <= kinds
    assert len(rejected) >= 0.8 * len(moved), [f.detail for f in findings if f is None][:3]
    assert check_of("wrong_level") == "level"


def test_unmeasurable_program_is_rejected_with_what_to_define(samples) -> None:
    items, scenes = samples
    sample = next(s for s in items if s.proposal.question_type == "object_rel_direction_easy")
    bare = sample.proposal.program.replace("STANDING =", "STANDING_CATEGORY =")
    blind = sample.model_copy(
        update={"proposal": sample.proposal.model_copy(update={"program": bare})}
    )
    (finding,) = _check([blind], scenes)
    assert finding.reason is RejectReason.WRONG_LEVEL and "define STANDING" in finding.detail
    (note,) = _check([blind], scenes, LevelCheckConfig(unmeasurable="note"))
    assert note.reason is None and "not measured" in note.detail


def test_band_rule() -> None:
    level = {"choices": 4, "min_gap_m": 0.25, "max_gap_m": 0.4, "format": "multiple_choice"}
    assert band_problem(level, {"choices": 4, "gap_m": 0.3}) is None
    assert "below" in band_problem(level, {"choices": 4, "gap_m": 0.2})
    assert "above" in band_problem(level, {"choices": 4, "gap_m": 0.5})
    assert "3 choices" not in (band_problem(level, {"choices": 3, "gap_m": 0.3}) or "")
    assert "has 3" in band_problem(level, {"choices": 3, "gap_m": 0.3})
    assert "numeric" in band_problem(level, {"format": "numeric", "choices": 4, "gap_m": 0.3})
    with pytest.raises(CannotMeasure):
        band_problem(level, {"choices": 4})


def test_numeric_levels_read_the_answer() -> None:
    scene = demo_scene()
    view = tools.geometry.SceneView(scene)
    task = TASKS["object_counting"]
    proposal = Proposal(
        scene_id=scene.id,
        question_type="object_counting",
        question="How many chairs are in this room?",
        answer_kind="numeric",
        program="def solve(scene):\n    return 7\n",
        level=4,
    )
    assert "targets" in level_problem(task, view, proposal, answer="7")
    assert level_problem(task, view, proposal, answer="3") is None
    assert level_problem(task, view, proposal.model_copy(update={"level": 5}), answer="7") is None
