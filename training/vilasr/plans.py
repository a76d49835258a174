"""What to draw for a question, from exact scene metadata (the cold start's "teacher").

A plan is a list of drawing steps over the frames the solver is shown, in the solver's
pixel frame (``FrameGeometry``): boxes on the visible instances the question names; for
relative direction, the facing line and the line to the queried object from where one
stands; for routes, one line per leg; for camera motion, the same object boxed in both
frames; for appearance order, each object boxed in the frame where it first shows.
Roles (standing, facing, route...) come from the ground-truth program's constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from agents.records import Sample
from agents.tasks.base import program_constants
from scenes.schema import Scene
from tools.drawing.frame_geometry import FrameGeometry
from tools.geometry.image_space import Box2D, CoordinateMode, to_coordinates

Tool = Literal["object_mapper", "path_tracer"]


@dataclass
class DrawStep:
    """One tool call: which shown frame (0-based position), what to draw (pixels), and why."""

    tool: Tool
    frame: int
    items: list[dict[str, Any]]
    facts: list[str] = field(default_factory=list)
    instance_ids: list[int] = field(default_factory=list, metadata={"help": "Boxed, per item."})


@dataclass
class Target:
    label: str
    instance_id: int


def _labels(scene: Scene, instance_ids: list[int]) -> list[Target]:
    """Category labels, numbered when a category repeats ('chair 1', 'chair 2')."""
    categories = [scene.object(i).category for i in instance_ids]
    targets = []
    for i, (instance_id, category) in enumerate(zip(instance_ids, categories, strict=True)):
        if categories.count(category) > 1:
            category = f"{category} {categories[: i + 1].count(category)}"
        targets.append(Target(category, instance_id))
    return targets


def _box_item(target: Target, box: Box2D) -> dict[str, Any]:
    return {"bbox_2d": [round(v) for v in box.as_list()], "label": target.label}


def _box_fact(target: Target, box: Box2D, shown: int, mode: CoordinateMode = "pixels") -> str:
    x1, y1, x2, y2 = to_coordinates(box.as_list(), box.width, box.height, mode)
    return f"The {target.label} is at [{x1}, {y1}, {x2}, {y2}] in image {shown}."


def _instances_of(scene: Scene, sample: Sample, categories: list[str]) -> list[int]:
    """The referenced instance of each category, in the given order (skipping missing ones)."""
    referenced = sample.proposal.referenced_instances
    found = []
    for category in categories:
        match = [i for i in referenced if scene.object(i).category == category and i not in found]
        if match:
            found.append(match[0])
    return found


def _boxes_step(
    geometry: FrameGeometry,
    frames: list[int],
    targets: list[Target],
    position: int,
    mode: CoordinateMode = "pixels",
) -> DrawStep | None:
    boxes = geometry.boxes(frames[position])
    shown = [t for t in targets if t.instance_id in boxes]
    if not shown:
        return None
    return DrawStep(
        "object_mapper",
        position,
        [_box_item(t, boxes[t.instance_id]) for t in shown],
        [_box_fact(t, boxes[t.instance_id], position + 1, mode) for t in shown],
        [t.instance_id for t in shown],
    )


def _best_position(
    geometry: FrameGeometry, frames: list[int], instance_ids: list[int]
) -> int | None:
    """Position of the shown frame with the most of ``instance_ids`` visible (ties: most pixels)."""
    best, best_key = None, (0, 0.0)
    for position, index in enumerate(frames):
        boxes = geometry.boxes(index)
        present = [i for i in instance_ids if i in boxes]
        key = (len(present), sum(boxes[i].pixels or boxes[i].area for i in present))
        if key > best_key:
            best, best_key = position, key
    return best


def _line(label: str, start: Box2D, end: Box2D) -> dict[str, Any]:
    return {
        "start_point_2d": [round(v) for v in start.center],
        "end_point_2d": [round(v) for v in end.center],
        "label": label,
    }


def plan_drawings(
    sample: Sample,
    scene: Scene,
    geometry: FrameGeometry,
    frames: list[int],
    mode: CoordinateMode = "pixels",
) -> list[DrawStep]:
    """The drawing steps for one question over the shown ``frames`` (Frame.index values)."""
    question_type = sample.proposal.question_type
    constants = program_constants(sample.proposal.program)
    if question_type in ("camera_movement", "camera_rotation"):
        return _camera_plan(scene, geometry, frames, constants)
    if question_type == "obj_appearance_order":
        return _appearance_plan(scene, sample, geometry, frames)
    ordered: list[int] = []
    line_roles: list[tuple[str, int, int]] = []
    if question_type.startswith("object_rel_direction"):
        ordered = _instances_of(
            scene, sample, [constants.get(k, "") for k in ("STANDING", "FACING", "QUERY")]
        )
        if len(ordered) == 3:
            line_roles = [("facing", 0, 1), ("to query", 0, 2)]
    elif question_type == "route_planning":
        ordered = _instances_of(scene, sample, list(constants.get("ROUTE", [])))
        line_roles = [(f"leg {k + 1}", k, k + 1) for k in range(len(ordered) - 1)]
    if not ordered:
        ordered = list(sample.proposal.referenced_instances)
    if not ordered:
        return []
    targets = _labels(scene, ordered)
    position = _best_position(geometry, frames, ordered)
    if position is None:
        return []
    first = _boxes_step(geometry, frames, targets, position, mode)
    steps = [first] if first else []
    boxes = geometry.boxes(frames[position])
    lines = [
        _line(label, boxes[ordered[a]], boxes[ordered[b]])
        for label, a, b in line_roles
        if ordered[a] in boxes and ordered[b] in boxes
    ]
    if lines and steps:
        size = geometry.size
        facts = [
            f"The {item['label']} line runs from "
            f"{to_coordinates(item['start_point_2d'], size, size, mode)} to "
            f"{to_coordinates(item['end_point_2d'], size, size, mode)}."
            for item in lines
        ]
        steps.append(DrawStep("path_tracer", -1, lines, facts))  # -1: on the image just drawn
    if len(steps) == 1 and not lines and question_type in MEASURE_TASKS:
        steps.append(_extent_step(steps[0], geometry.size, mode))
    missing = [t for t in targets if t.instance_id not in boxes]
    for target in missing:  # objects out of that frame: box them where they show best
        other = _best_position(geometry, frames, [target.instance_id])
        if other is not None:
            step = _boxes_step(geometry, frames, [target], other, mode)
            if step:
                steps.append(step)
    return steps


#: Tasks about one object's or one pair's size or distance: a line along the box's long side.
MEASURE_TASKS: frozenset[str] = frozenset(
    {
        "object_size_estimation",
        "object_abs_distance",
        "object_counting",
        "object_camera_rel_distance",
    }
)


def _extent_step(boxes_step: DrawStep, size: int, mode: CoordinateMode) -> DrawStep:
    """A line across the first box's longer side, to read its extent off the image."""
    x1, y1, x2, y2 = boxes_step.items[0]["bbox_2d"]
    middle_x, middle_y = round((x1 + x2) / 2), round((y1 + y2) / 2)
    if x2 - x1 >= y2 - y1:
        start, end = [x1, middle_y], [x2, middle_y]
    else:
        start, end = [middle_x, y1], [middle_x, y2]
    label = f"{boxes_step.items[0]['label']} extent"
    fact = (
        f"The {label} line runs from {to_coordinates(start, size, size, mode)} to "
        f"{to_coordinates(end, size, size, mode)}."
    )
    return DrawStep(
        "path_tracer", -1, [{"start_point_2d": start, "end_point_2d": end, "label": label}], [fact]
    )


def _camera_plan(
    scene: Scene, geometry: FrameGeometry, frames: list[int], constants: dict[str, Any]
) -> list[DrawStep]:
    first, second = constants.get("FIRST"), constants.get("SECOND")
    if first not in frames or second not in frames:
        return []
    a, b = geometry.boxes(first), geometry.boxes(second)
    shared = sorted(set(a) & set(b), key=lambda i: -(a[i].pixels + b[i].pixels))
    if not shared:
        return []
    target = _labels(scene, [shared[0]])[0]
    return [
        s
        for s in (
            _boxes_step(geometry, frames, [target], frames.index(first)),
            _boxes_step(geometry, frames, [target], frames.index(second)),
        )
        if s is not None
    ]


def _appearance_plan(
    scene: Scene, sample: Sample, geometry: FrameGeometry, frames: list[int]
) -> list[DrawStep]:
    steps = []
    targets = _labels(scene, list(sample.proposal.referenced_instances))
    for target in targets:
        for position, index in enumerate(frames):
            if target.instance_id in geometry.boxes(index):
                step = _boxes_step(geometry, frames, [target], position)
                if step:
                    step.facts.append(f"The {target.label} first shows in image {position + 1}.")
                    steps.append(step)
                break
    return steps
