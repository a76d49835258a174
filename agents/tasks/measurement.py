"""Measurement tasks: object_size_estimation, object_abs_distance, room_size_estimation.

Units and rounding follow VSI-Bench: sizes in centimetres (integers), distances in metres
(one decimal, closest points of the two boxes, pairs under 0.2 m skipped), room size in
square metres (one decimal; the published area for VSI-Bench metadata). Named objects are
unique instances.
"""

from __future__ import annotations

from itertools import combinations

import tools.geometry as g
from agents.tasks.base import TaskContext
from agents.tasks.numeric import NumericTarget, NumericTask, numeric_levels

HARD_SIZE_CM = 80.0  # level 5: objects whose longest side is below this
HARD_DISTANCE_M = 2.0  # level 5: pairs farther apart than this
HARD_ROOM_M2 = 25.0  # level 5: rooms larger than this


class ObjectSize(NumericTask):
    name = "object_size_estimation"
    description = "Longest dimension of a unique object, in centimetres."
    templates = (
        "What is the length of the longest dimension (length, width, or height) of the "
        "{category}, measured in centimeters?",
        "How long is the longest side (length, width, or height) of the {category}, "
        "in centimeters?",
        "Estimate the size of the {category}: what is its longest dimension in centimeters?",
        "In centimeters, what is the largest of the {category}'s length, width, and height?",
    )
    levels = numeric_levels(
        easy=f"longest side >= {HARD_SIZE_CM:.0f} cm", hard=f"longest side < {HARD_SIZE_CM:.0f} cm"
    )
    answer_decimals = 0
    measure_body = "def measure(scene):\n    return 100.0 * g.object_size(scene.unique(CATEGORY))\n"

    def is_hard(self, value: float) -> bool:
        return value < HARD_SIZE_CM

    def targets(self, ctx: TaskContext) -> list[NumericTarget]:
        targets = []
        for obj in ctx.unique_objects:
            size_cm = 100.0 * g.object_size(obj)
            targets.append(
                NumericTarget(
                    value=size_cm,
                    fields={"category": obj.category},
                    constants={"CATEGORY": obj.category},
                    referenced=[obj],
                    hard=self.is_hard(size_cm),
                    measured={"size_cm": round(size_cm, 1)},
                )
            )
        return targets


class ObjectAbsDistance(NumericTask):
    name = "object_abs_distance"
    description = "Distance between the closest points of two unique objects, in metres."
    templates = (
        "Measuring from the closest point of each object, what is the direct distance between "
        "the {object1} and the {object2} (in meters)?",
        "What is the shortest straight-line distance between the {object1} and the {object2}, "
        "in meters, measured between their closest points?",
        "How far apart are the {object1} and the {object2}? Give the direct distance between "
        "their closest points in meters.",
        "In meters, how far is the {object1} from the {object2}, measuring from the closest "
        "point of each?",
    )
    levels = numeric_levels(
        easy=f"0.2 to {HARD_DISTANCE_M} m apart", hard=f"more than {HARD_DISTANCE_M} m apart"
    )
    answer_decimals = 1
    option_minimum = 0.1
    measure_body = """
def measure(scene):
    distance = g.box_distance(scene.unique(OBJECT1), scene.unique(OBJECT2))
    if distance < MIN_DISTANCE:
        raise g.Ambiguous(f"objects only {distance:.2f} m apart")
    return distance
"""

    def is_hard(self, value: float) -> bool:
        return value > HARD_DISTANCE_M

    def targets(self, ctx: TaskContext) -> list[NumericTarget]:
        targets = []
        minimum = ctx.ambiguity.min_abs_distance_m
        for a, b in combinations(ctx.unique_objects, 2):
            distance = g.box_distance(a, b)
            if distance < minimum:
                continue
            first, second = (a, b) if ctx.rng.random() < 0.5 else (b, a)
            targets.append(
                NumericTarget(
                    value=distance,
                    fields={"object1": first.category, "object2": second.category},
                    constants={
                        "OBJECT1": first.category,
                        "OBJECT2": second.category,
                        "MIN_DISTANCE": minimum,
                    },
                    referenced=[a, b],
                    hard=self.is_hard(distance),
                    measured={"distance_m": round(distance, 3)},
                )
            )
        return targets


class RoomSize(NumericTask):
    name = "room_size_estimation"
    description = "Floor area of the room, in square metres."
    templates = (
        "What is the size of this room (in square meters)? If multiple rooms are shown, "
        "estimate the size of the combined space.",
        "How many square meters of floor does this room have? If several rooms are shown, "
        "give the combined area.",
        "Estimate the floor area of this room in square meters (combine the rooms if more "
        "than one is shown).",
    )
    levels = numeric_levels(
        easy=f"rooms up to {HARD_ROOM_M2:.0f} m^2", hard=f"rooms over {HARD_ROOM_M2:.0f} m^2"
    )
    answer_decimals = 1
    measure_body = "def measure(scene):\n    return g.floor_area(scene)\n"

    def is_hard(self, value: float) -> bool:
        return value > HARD_ROOM_M2

    def targets(self, ctx: TaskContext) -> list[NumericTarget]:
        area = g.floor_area(ctx.view)
        return [
            NumericTarget(
                value=area,
                fields={},
                constants={},
                hard=self.is_hard(area),
                measured={"area_m2": round(area, 2)},
            )
        ]
