"""One source for each rule: level tables, example programs, geometry defaults, the prompt's
API reference and the tool descriptions all state the numbers of `tools/geometry/rules.py`,
and the reference lists every attribute the example programs use."""

from __future__ import annotations

import ast
import importlib
import re

import tools.geometry as g
import tools.geometry.rules as rules
from agents.proposers.llm_agent import AgentLimits
from agents.proposers.llm_prompts import demo_example, load_template, system_prompt
from agents.proposers.llm_tools import ToolSettings, build_tools
from agents.tasks import TASKS, AmbiguityConfig
from agents.tasks.base import program_constants
from tools.geometry import appearance, direction, route

REFERENCE = load_template("geometry_api.txt").template
CONFIG = AmbiguityConfig()
free_space = importlib.import_module("tools.geometry.free_space")  # the module, not g.free_space
#: Tasks whose programs carry the shared rules (camera tasks have their own turn settings).
RULED_TASKS = (
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "object_rel_distance",
    "obj_appearance_order",
    "route_planning",
)


def test_library_defaults_and_task_margins_are_the_rules() -> None:
    assert direction.DEFAULT_MARGIN_DEG == CONFIG.direction_margin_deg == rules.DIRECTION_MARGIN_DEG
    assert appearance.DEFAULT_MIN_GAP_S == CONFIG.appearance_min_gap_s == rules.APPEARANCE_MIN_GAP_S
    assert free_space.DEFAULT_CLEARANCE_M == CONFIG.route_clearance_m == rules.WALK_CLEARANCE_M
    assert route.STRAIGHT_DEG == CONFIG.route_min_turn_deg == rules.ROUTE_MIN_TURN_DEG
    assert CONFIG.rel_distance_margin_m == rules.REL_DISTANCE_MARGIN_M
    assert CONFIG.direction_min_separation_m == rules.DIRECTION_MIN_SEPARATION_M
    assert CONFIG.direction_max_separation_m == rules.DIRECTION_MAX_SEPARATION_M


def test_level_tables_state_the_effective_band() -> None:
    for variant in ("easy", "medium", "hard"):
        levels = TASKS[f"object_rel_direction_{variant}"].levels
        assert (
            min(float(s["min_margin_deg"]) for s in levels.values()) == rules.DIRECTION_MARGIN_DEG
        )
    distance = TASKS["object_rel_distance"].levels
    assert min(float(s["min_gap_m"]) for s in distance.values()) == rules.REL_DISTANCE_MARGIN_M
    assert {s["min_pair_gap_m"] for s in distance.values()} == {rules.REL_DISTANCE_MARGIN_M}
    appearance_levels = TASKS["obj_appearance_order"].levels
    assert {s["min_gap_s"] for s in appearance_levels.values()} == {rules.APPEARANCE_MIN_GAP_S}


def test_example_programs_use_the_rules() -> None:
    expected = {
        "MARGIN_DEG": rules.DIRECTION_MARGIN_DEG,
        "MIN_SEPARATION": rules.DIRECTION_MIN_SEPARATION_M,
        "MAX_SEPARATION": rules.DIRECTION_MAX_SEPARATION_M,
        "MARGIN": rules.REL_DISTANCE_MARGIN_M,
        "MARGIN_LARGE_ROOM": rules.REL_DISTANCE_MARGIN_LARGE_ROOM_M,
        "LARGE_ROOM_M2": rules.LARGE_ROOM_AREA_M2,
        "MIN_GAP_S": rules.APPEARANCE_MIN_GAP_S,
        "MIN_TURN_DEG": rules.ROUTE_MIN_TURN_DEG,
        "MIN_LEG_M": rules.ROUTE_MIN_LEG_M,
        "CLEARANCE_M": rules.WALK_CLEARANCE_M,
    }
    seen: set[str] = set()
    for name in RULED_TASKS:
        example = demo_example(name, 5)
        assert example is not None, name
        for key, value in program_constants(example.program).items():
            if key in expected:
                seen.add(key)
                assert value == expected[key], (name, key, value)
    assert seen == set(expected)


def test_the_reference_states_the_rules_numbers() -> None:
    phrases = [
        f"margin_deg={rules.DIRECTION_MARGIN_DEG}",
        f"min_gap_s={rules.APPEARANCE_MIN_GAP_S}",
        f"clearance={rules.WALK_CLEARANCE_M}",
        f"{rules.DIRECTION_MIN_SEPARATION_M} to {rules.DIRECTION_MAX_SEPARATION_M} m apart",
        f"{rules.REL_DISTANCE_MARGIN_M} m ({rules.REL_DISTANCE_MARGIN_LARGE_ROOM_M:g} m in rooms "
        f"over {rules.LARGE_ROOM_AREA_M2} m²)",
        f"{100 * rules.CLEAR_MIN_FRACTION:g} % of the image",
        f"{100 * rules.CLEAR_CUT_MIN_FRACTION:g} % when its 2D box is",
        f"within {rules.WALK_CLEARANCE_M} m",
        f"below {rules.ROUTE_MIN_TURN_DEG:g}°",
        f"{rules.ROUTE_BACK_DEG:g}° or more",
    ]
    text = " ".join(REFERENCE.split())
    for phrase in phrases:
        assert phrase in text, phrase
    system = " ".join(system_prompt(TASKS, None).split())
    assert f"at least {100 * rules.CLEAR_MIN_FRACTION:g} % of the image" in system
    assert f"{100 * rules.CLEAR_CUT_MIN_FRACTION:g} % when cut" in system


def _attributes(program: str) -> set[str]:
    return {n.attr for n in ast.walk(ast.parse(program)) if isinstance(n, ast.Attribute)}


def test_the_reference_lists_every_attribute_the_examples_use() -> None:
    programs = re.findall(r"```python\n(.*?)```", REFERENCE, flags=re.S)
    programs += [
        example.program
        for name, task in TASKS.items()
        for level in task.levels
        if (example := demo_example(name, level)) is not None
    ]
    library = (g.FrameView, g.SceneView, g.Object3D, g.RoomView, g.Direction, g.Route)
    used = {
        attr
        for program in programs
        for attr in _attributes(program)
        if hasattr(g, attr)
        or any(hasattr(kind, attr) for kind in library)
        or attr in {f for kind in library for f in getattr(kind, "__dataclass_fields__", {})}
    }
    assert {"appearance_order", "unique", "frame"} <= used
    for attr in ("intrinsics", "image_path", "box", "is_cut", "clearly_visible"):
        assert f".{attr}" in REFERENCE, attr
    missing = sorted(a for a in used if not re.search(rf"[.`]{re.escape(a)}\b", REFERENCE))
    assert missing == []


def test_tool_descriptions_state_their_limits() -> None:
    tools = {t.name: t.description for t in build_tools()}
    settings, limits = ToolSettings(), AgentLimits()
    frames = " ".join(tools["view_frames"].split())
    assert f"At most {settings.max_frames_per_view} frames per call" in frames
    assert f"keeps the {limits.max_images_in_context} newest images" in frames
    showing = " ".join(tools["frames_showing"].split())
    assert f"at most {settings.max_list_items} frames" in showing
    assert f"at least {100 * rules.CLEAR_MIN_FRACTION:g} % of the image" in showing
    assert f"or {100 * rules.CLEAR_CUT_MIN_FRACTION:g} % when" in showing
    assert f"at most {settings.max_list_items} objects" in " ".join(tools["list_objects"].split())
    assert f"within {rules.WALK_CLEARANCE_M} m" in " ".join(tools["check_route_leg"].split())
