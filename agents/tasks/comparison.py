"""Two comparisons of our own: which object is tallest, and which is nearest the camera.

object_height_comparison compares the objects' own heights (bottom to top of the box), not
how high they stand. object_camera_rel_distance shows one frame and asks which of the
objects in it is closest to the camera (closest point of each box), with VSI-Bench's
near-tie margin. Levels add choices and shrink the ratio or gap between the answer and
the runner-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations, pairwise
from typing import Any

import tools.geometry as g
from agents.records import Proposal, option_text
from agents.tasks.base import (
    LETTER_OF_ANSWER,
    AmbiguityConfig,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    program_source,
)
from agents.tasks.levels import need
from tools.geometry.rules import REL_DISTANCE_MARGIN_M

HEIGHT_PROGRAM = """
def height(obj):
    return obj.top_z - obj.bottom_z


def solve(scene):
    heights = {c: height(scene.unique(c)) for c in CHOICES}
    ranked = sorted(CHOICES, key=lambda c: -heights[c])
    tallest, runner_up = heights[ranked[0]], heights[ranked[1]]
    if tallest < MIN_RATIO * runner_up or tallest - runner_up < MIN_GAP_M:
        raise g.Ambiguous(f"{ranked[0]} and {ranked[1]} are {tallest:.2f} and {runner_up:.2f} m tall")
    return letter_of(ranked[0])
"""

CAMERA_PROGRAM = """
def solve(scene):
    position = scene.frame(FRAME).position
    margin = MARGIN_LARGE_ROOM if g.floor_area(scene) > LARGE_ROOM_M2 else MARGIN
    distances = {c: g.point_box_distance(position, scene.unique(c)) for c in CHOICES}
    ranked = sorted(CHOICES, key=lambda c: distances[c])
    for a, b in zip(ranked, ranked[1:]):
        if distances[b] - distances[a] < margin:
            raise g.Ambiguous(f"{a} and {b} are {distances[b] - distances[a]:.3f} m apart")
    return letter_of(ranked[0])
"""


def _height(obj: g.Object3D) -> float:
    return obj.top_z - obj.bottom_z


class HeightComparison(Task):
    name = "object_height_comparison"
    description = "Which of several unique objects is the tallest (its own height)."
    templates = (
        "Which of these objects is the tallest: {choices}? Compare each object's own height "
        "from bottom to top, not how high it stands.",
        "Measured from its bottom to its top, which of the following objects is tallest: "
        "{choices}?",
        "Ignoring where they stand, which object has the greatest height: {choices}?",
    )
    levels: Mapping[int, LevelSettings] = {
        1: {"choices": 2, "min_ratio": 2.0},
        2: {"choices": 3, "min_ratio": 1.6},
        3: {"choices": 4, "min_ratio": 1.35},
        4: {"choices": 4, "min_ratio": 1.2, "max_ratio": 1.35},
        5: {"choices": 4, "min_ratio": AmbiguityConfig.height_min_ratio, "max_ratio": 1.2},
    }

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """ratio: the tallest choice's height over the runner-up's."""
        (choices,) = need(constants, "CHOICES")
        heights = sorted((_height(view.unique(str(c))) for c in choices), reverse=True)
        return {"ratio": heights[0] / max(heights[1], 1e-9), "choices": len(choices)}

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        settings = self.settings(level)
        config = ctx.ambiguity
        n = int(settings["choices"])
        low = max(float(settings["min_ratio"]), config.height_min_ratio)
        high = float(settings.get("max_ratio", float("inf")))
        objects = list(ctx.unique_objects)
        ctx.rng.shuffle(objects)
        for combo in list(combinations(objects, n))[:3000]:
            ranked = sorted(combo, key=lambda o: -_height(o))
            tallest, runner_up = _height(ranked[0]), _height(ranked[1])
            if runner_up <= 0 or tallest - runner_up < config.height_min_gap_m:
                continue
            ratio = tallest / runner_up
            if not low <= ratio < high:
                continue
            options = self.place_options(ctx, ranked[0].category, [o.category for o in ranked[1:]])
            choices = [option_text(o) for o in options]
            question, template_id = self.question(ctx, choices=", ".join(choices))
            program = program_source(
                HEIGHT_PROGRAM + LETTER_OF_ANSWER,
                CHOICES=sorted(choices),
                MIN_RATIO=config.height_min_ratio,
                MIN_GAP_M=config.height_min_gap_m,
                OPTIONS=options,
            )
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                referenced=ranked,
                measured={"height_ratio": round(ratio, 3)},
            )
        raise CannotPose("no_height_set", f"{n} objects with ratio {low}-{high}")


class CameraRelDistance(Task):
    name = "object_camera_rel_distance"
    description = "Which object in a frame is closest to the camera."
    needs_frames = True
    templates = (
        "Measuring from the closest point of each object, which of these objects ({choices}) "
        "is the closest to the camera in this image?",
        "In this image, which of the following objects is nearest to the camera: {choices}?",
        "Which of these objects ({choices}) was closest to the camera when this image was "
        "taken, measuring to the closest point of each?",
    )
    levels: Mapping[int, LevelSettings] = {
        level: {**band, "min_pair_gap_m": REL_DISTANCE_MARGIN_M}
        for level, band in {
            1: {"choices": 2, "min_gap_m": 1.0},
            2: {"choices": 3, "min_gap_m": 0.6},
            3: {"choices": 4, "min_gap_m": 0.4},
            4: {"choices": 4, "min_gap_m": 0.25, "max_gap_m": 0.4},
            5: {"choices": 4, "min_gap_m": REL_DISTANCE_MARGIN_M, "max_gap_m": 0.25},
        }.items()
    }

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """gap_m: closest vs runner-up from the camera of FRAME; pair_gap_m: the smallest
        gap between neighbours in the ranking."""
        frame, choices = need(constants, "FRAME", "CHOICES")
        position = view.frame(int(frame)).position
        distances = sorted(g.point_box_distance(position, view.unique(str(c))) for c in choices)
        gaps = [b - a for a, b in pairwise(distances)]
        return {"gap_m": gaps[0], "pair_gap_m": min(gaps), "choices": len(choices)}

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        ctx.need_frames()
        settings = self.settings(level)
        n = int(settings["choices"])
        margin = ctx.distance_margin
        low = max(float(settings["min_gap_m"]), margin)
        high = float(settings.get("max_gap_m", float("inf")))
        unique = {o.instance_id for o in ctx.unique_objects}
        frames = [f.index for f in ctx.view.frames]
        ctx.rng.shuffle(frames)
        for index in frames[:60]:
            position = ctx.view.frame(index).position
            shown = [o for o in ctx.visible_in_frame(index) if o.instance_id in unique]
            distance = {o.instance_id: g.point_box_distance(position, o) for o in shown}
            ctx.rng.shuffle(shown)
            for combo in list(combinations(shown, n))[:200]:
                ranked = sorted(combo, key=lambda o: distance[o.instance_id])
                gaps = [
                    distance[b.instance_id] - distance[a.instance_id] for a, b in pairwise(ranked)
                ]
                if min(gaps) < margin or not low <= gaps[0] < high:
                    continue
                return self._proposal(ctx, level, index, ranked, gaps[0], margin)
        raise CannotPose("no_frame_with_gap", f"{n} objects with gap {low:.2f}-{high:.2f} m")

    def _proposal(
        self,
        ctx: TaskContext,
        level: int,
        frame_index: int,
        ranked: list[g.Object3D],
        gap: float,
        margin: float,
    ) -> Proposal:
        options = self.place_options(ctx, ranked[0].category, [o.category for o in ranked[1:]])
        choices = [option_text(o) for o in options]
        question, template_id = self.question(ctx, choices=", ".join(choices))
        program = program_source(
            CAMERA_PROGRAM + LETTER_OF_ANSWER,
            FRAME=frame_index,
            CHOICES=sorted(choices),
            MARGIN=ctx.ambiguity.rel_distance_margin_m,
            MARGIN_LARGE_ROOM=ctx.ambiguity.rel_distance_margin_large_room_m,
            LARGE_ROOM_M2=ctx.ambiguity.large_room_area_m2,
            OPTIONS=options,
        )
        return self.proposal(
            ctx,
            level,
            question=question,
            template_id=template_id,
            program=program,
            options=options,
            referenced=ranked,
            frame_indices=[frame_index],
            measured={"gap_m": round(gap, 3), "margin_m": margin},
        )
