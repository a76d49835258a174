"""Levels really change difficulty: every proposal's measured gap, ratio, margin, option
spacing, instance count, frame gap or route length lies in its level's band, and the bands
move from easy to hard.

Every task's proposals are checked against the `min_X` / `max_X` bounds of their level
through the `X` they record in `difficulty`; the built-in tasks also have a precise check
of their own in `CHECKS`. A new task needs no entry here (docs/tasks.md, "Adding a task
type")."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest

from agents.proposers import ProgrammaticProposer
from agents.records import Proposal
from agents.tasks import TASKS, AmbiguityConfig
from agents.tasks.base import program_constants
from agents.tasks.demo_scene import demo_scene
from agents.tasks.levels import CannotMeasure, band_problem
from scenes.procedural import generate_scene
from scenes.schema import Scene

CONFIG = AmbiguityConfig()


@pytest.fixture(scope="module")
def proposals() -> list[Proposal]:
    scenes: list[Scene] = [demo_scene()]
    scenes += [generate_scene(seed, frames=24, width=96, height=72).scene for seed in range(5)]
    proposer = ProgrammaticProposer()
    return proposer.propose(scenes, dict.fromkeys(proposer.arms(), 4)).proposals


def _band(p: Proposal, value: float, low_key: str, high_key: str, floor: float = 0.0) -> None:
    low = max(float(p.difficulty.get(low_key, 0.0)), floor)
    high = float(p.difficulty.get(high_key, math.inf))
    assert low - 1e-9 <= value < high + 1e-9, (p.question_type, p.level, value, low, high)


def _numeric(p: Proposal) -> None:
    if p.level <= 3:
        numbers = [float(o.partition(". ")[2]) for o in p.options]
        ratio = min(b / a for a, b in itertools.pairwise(numbers))
        assert (
            p.answer_kind == "multiple_choice" and ratio >= p.difficulty["min_option_ratio"] - 1e-9
        )
        return
    assert p.answer_kind == "numeric" and not p.options
    measured = {
        "object_counting": ("count", lambda v: v >= 5),
        "object_size_estimation": ("size_cm", lambda v: v < 80),
        "object_abs_distance": ("distance_m", lambda v: v > 2.0),
        "room_size_estimation": ("area_m2", lambda v: v > 25),
    }[p.question_type]
    assert measured[1](float(p.difficulty[measured[0]])) == (p.level == 5)


def _gap(p: Proposal) -> None:
    _band(
        p, float(p.difficulty["gap_m"]), "min_gap_m", "max_gap_m", float(p.difficulty["margin_m"])
    )
    assert len(p.options) == p.difficulty["choices"]


def _direction(p: Proposal) -> None:
    _band(
        p,
        float(p.difficulty["margin_deg"]),
        "min_margin_deg",
        "max_margin_deg",
        CONFIG.direction_margin_deg,
    )


def _route(p: Proposal) -> None:
    assert p.question.count("[please fill in]") - 1 == p.difficulty["turns"]
    if p.difficulty["distractors"] == "one turn different":
        truth_free = [o.partition(". ")[2].split(", ") for o in p.options]
        differences = {
            sum(a != b for a, b in zip(x, y, strict=True))
            for x in truth_free
            for y in truth_free
            if x != y
        }
        assert differences <= {1, 2}


def _appearance(p: Proposal) -> None:
    assert p.difficulty["frames_between"] >= p.difficulty["min_frames_between"]
    assert len(program_constants(p.program)["CATEGORIES"]) == p.difficulty["categories"]


def _rotation(p: Proposal) -> None:
    yaw = abs(float(p.difficulty["yaw_deg"]))
    if "angle_step_deg" in p.difficulty:
        angles = sorted(program_constants(p.program)["ANGLES"].values())
        assert min(b - a for a, b in itertools.pairwise(angles)) >= p.difficulty["angle_step_deg"]
        return
    _band(p, yaw, "min_turn_deg", "max_turn_deg", CONFIG.camera_min_turn_deg)


def _movement(p: Proposal) -> None:
    _band(
        p, float(p.difficulty["dominance_ratio"]), "min_ratio", "max_ratio", CONFIG.camera_min_ratio
    )
    assert len(p.options) == p.difficulty["options"]


def _left(p: Proposal) -> None:
    assert len(p.options) == p.difficulty["choices"]
    wanted = {"yes": {1}, "no": {0}, "any": {0, 1}}[str(p.difficulty["answer_in_view"])]
    assert p.difficulty["answer_shown"] in wanted


def _height(p: Proposal) -> None:
    _band(p, float(p.difficulty["height_ratio"]), "min_ratio", "max_ratio", CONFIG.height_min_ratio)


def _viewpoint_pair(p: Proposal) -> None:
    assert len(p.options) == p.difficulty["options"]
    assert float(p.difficulty["angle_deg"]) >= float(p.difficulty.get("min_angle_deg", 0.0))
    step = float(p.difficulty.get("angle_step_deg", 0.0))
    assert all("degrees" in o for o in p.options if "no " not in o) == bool(step)


CHECKS: dict[str, Callable[[Proposal], None]] = {
    "object_counting": _numeric,
    "object_size_estimation": _numeric,
    "object_abs_distance": _numeric,
    "room_size_estimation": _numeric,
    "object_rel_distance": _gap,
    "object_camera_rel_distance": _gap,
    "object_rel_direction_easy": _direction,
    "object_rel_direction_medium": _direction,
    "object_rel_direction_hard": _direction,
    "route_planning": _route,
    "obj_appearance_order": _appearance,
    "camera_rotation": _rotation,
    "camera_movement": _movement,
    "object_left_of_camera": _left,
    "object_height_comparison": _height,
    "viewpoint_camera_translation": _viewpoint_pair,
    "viewpoint_object_translation": _viewpoint_pair,
    "viewpoint_camera_rotation": _viewpoint_pair,
}


def _bounds(task_name: str) -> set[str]:
    return {
        key
        for settings in TASKS[task_name].levels.values()
        for key in settings
        if key.startswith(("min_", "max_"))
    }


def _recorded_band(p: Proposal) -> None:
    """The level's `min_X` / `max_X` bounds hold for the `X` the task recorded."""
    try:
        problem = band_problem(TASKS[p.question_type].settings(p.level), p.difficulty)
    except CannotMeasure as missing:
        raise AssertionError(
            f"{p.question_type}: {missing}; record it in the proposal's `measured` "
            "(docs/tasks.md, 'Adding a task type') or give the task a check in CHECKS here"
        ) from missing
    assert problem is None, (p.question_type, p.level, problem)


def test_every_task_has_a_band_check() -> None:
    assert set(CHECKS) <= set(TASKS), "CHECKS names a task that is not registered"
    for name in TASKS:
        assert name in CHECKS or _bounds(name), (
            f"{name}: its levels bound nothing; state each level's band as min_X / max_X of "
            "a quantity X the task records in `measured` (docs/tasks.md, 'Adding a task type')"
        )


def test_every_proposal_lies_in_its_level_band(proposals: list[Proposal]) -> None:
    assert len(proposals) > 150
    for proposal in proposals:
        CHECKS.get(proposal.question_type, _recorded_band)(proposal)


def test_each_task_reaches_most_levels(proposals: list[Proposal]) -> None:
    levels: dict[str, set[int]] = {}
    for proposal in proposals:
        levels.setdefault(proposal.question_type, set()).add(proposal.level)
    for name in TASKS:
        assert len(levels.get(name, set())) >= 4, (name, levels.get(name))


def test_level_settings_get_harder(proposals: list[Proposal]) -> None:
    """The knobs move one way: fewer or equal margins/gaps/ratios, more or equal choices."""
    for name, task in TASKS.items():
        for key in ("min_gap_m", "min_margin_deg", "min_option_ratio", "min_frames_between"):
            values = [
                task.levels[level][key]
                for level in sorted(task.levels)
                if key in task.levels[level]
            ]
            assert values == sorted(values, reverse=True), (name, key, values)
        for key in ("choices", "options", "turns", "categories"):
            values = [
                task.levels[level][key]
                for level in sorted(task.levels)
                if key in task.levels[level]
            ]
            assert values == sorted(values), (name, key, values)
