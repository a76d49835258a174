"""object_rel_direction_easy|medium|hard: where is C for someone standing at A facing B.

VSI-Bench's three granularities: easy is left/right of the facing line, medium is
left/right/back (back = turning 135 degrees or more), hard is the four quadrants. All three
objects are unique instances a reasonable distance apart. The answer is rejected within
`direction_margin_deg` of a label boundary, or when the query box straddles one; the levels
narrow the band of margins the answer's angle may have, so level 5 answers sit just
outside the ambiguity margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import permutations
from typing import Any, ClassVar

import tools.geometry as g
from agents.records import Proposal
from agents.tasks.base import (
    LETTER_OF_ANSWER,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    program_source,
)
from agents.tasks.levels import need
from tools.geometry.rules import DIRECTION_MARGIN_DEG

PROGRAM = """
def solve(scene):
    standing, facing, query = (scene.unique(c) for c in (STANDING, FACING, QUERY))
    for a, b in ((standing, facing), (standing, query), (facing, query)):
        distance = g.center_distance(a, b)
        if not MIN_SEPARATION <= distance <= MAX_SEPARATION:
            raise g.Ambiguous(f"{a.category} and {b.category} are {distance:.2f} m apart")
    label = g.relative_direction_or_ambiguous(standing, facing, query, LEVEL, MARGIN_DEG)
    return letter_of(label)
"""

LABELS: Mapping[str, tuple[str, ...]] = {
    "easy": ("left", "right"),
    "medium": ("left", "right", "back"),
    "hard": ("front-left", "front-right", "back-left", "back-right"),
}


def margin_levels(bands: tuple[float, float, float, float]) -> dict[int, LevelSettings]:
    """Level -> band of allowed boundary margins (deg); level 5 reaches down to the ambiguity
    margin (`rules.DIRECTION_MARGIN_DEG`), below which programs raise Ambiguous."""
    edges = (*bands, DIRECTION_MARGIN_DEG)
    levels: dict[int, LevelSettings] = {1: {"min_margin_deg": bands[0]}}
    for level in range(2, 6):
        levels[level] = {"min_margin_deg": edges[level - 1], "max_margin_deg": edges[level - 2]}
    return levels


class _RelativeDirection(Task):
    variant: ClassVar[str]
    description = "Direction of an object for an observer standing at one object facing another."

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        settings = self.settings(level)
        config = ctx.ambiguity
        low = max(float(settings["min_margin_deg"]), config.direction_margin_deg)
        high = float(settings.get("max_margin_deg", 360.0))
        objects = ctx.unique_objects
        if len(objects) < 3:
            raise CannotPose("too_few_unique_objects", f"{len(objects)} unique objects")
        triples = list(permutations(range(len(objects)), 3))
        ctx.rng.shuffle(triples)
        for i, j, k in triples[:400]:
            standing, facing, query = objects[i], objects[j], objects[k]
            if not self._separated(ctx, standing, facing, query):
                continue
            try:
                label = g.relative_direction_or_ambiguous(
                    standing, facing, query, self.variant, low
                )
            except g.Ambiguous:
                continue
            margin = g.relative_direction(standing, facing, query, self.variant).margin_deg
            if margin >= high:
                continue
            return self._proposal(ctx, level, standing, facing, query, label, margin)
        raise CannotPose("no_direction_in_band", f"margins {low:.0f}-{high:.0f} deg")

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """margin_deg: how far the query's angle is from the nearest label boundary."""
        names = need(constants, "STANDING", "FACING", "QUERY")
        standing, facing, query = (view.unique(str(name)) for name in names)
        margin = g.relative_direction(standing, facing, query, self.variant).margin_deg
        return {"margin_deg": margin}

    def _separated(self, ctx: TaskContext, *objects: g.Object3D) -> bool:
        config = ctx.ambiguity
        pairs = ((objects[0], objects[1]), (objects[0], objects[2]), (objects[1], objects[2]))
        return all(
            config.direction_min_separation_m
            <= g.center_distance(a, b)
            <= config.direction_max_separation_m
            for a, b in pairs
        )

    def _proposal(
        self,
        ctx: TaskContext,
        level: int,
        standing: g.Object3D,
        facing: g.Object3D,
        query: g.Object3D,
        label: str,
        margin: float,
    ) -> Proposal:
        distractors = [other for other in LABELS[self.variant] if other != label]
        options = self.place_options(ctx, label, distractors)
        question, template_id = self.question(
            ctx, standing=standing.category, facing=facing.category, query=query.category
        )
        config = ctx.ambiguity
        program = program_source(
            PROGRAM + LETTER_OF_ANSWER,
            STANDING=standing.category,
            FACING=facing.category,
            QUERY=query.category,
            LEVEL=self.variant,
            MARGIN_DEG=config.direction_margin_deg,
            MIN_SEPARATION=config.direction_min_separation_m,
            MAX_SEPARATION=config.direction_max_separation_m,
            OPTIONS=options,
        )
        return self.proposal(
            ctx,
            level,
            question=question,
            template_id=template_id,
            program=program,
            options=options,
            referenced=[standing, facing, query],
            measured={"margin_deg": round(margin, 1)},
        )


class RelDirectionEasy(_RelativeDirection):
    name = "object_rel_direction_easy"
    variant = "easy"
    templates = (
        "If I am standing by the {standing} and facing the {facing}, is the {query} to the left "
        "or the right of the {facing}?",
        "Imagine standing next to the {standing} while looking toward the {facing}. Is the "
        "{query} on the left or on the right of the {facing}?",
        "Standing by the {standing} and facing the {facing}: is the {query} to the left or to "
        "the right of the {facing}?",
    )
    levels = margin_levels((60.0, 40.0, 25.0, 15.0))


class RelDirectionMedium(_RelativeDirection):
    name = "object_rel_direction_medium"
    variant = "medium"
    templates = (
        "If I am standing by the {standing} and facing the {facing}, is the {query} to my left, "
        "right, or back? An object is to my back if I would have to turn at least 135 degrees "
        "in order to face it.",
        "Suppose I stand by the {standing} looking at the {facing}. Is the {query} to my left, "
        "to my right, or behind me? It is behind me if I would need to turn 135 degrees or "
        "more to face it.",
        "Standing next to the {standing} and facing the {facing}, would the {query} be on my "
        "left, on my right, or at my back (turning at least 135 degrees to face it)?",
    )
    levels = margin_levels((45.0, 32.0, 22.0, 15.0))


class RelDirectionHard(_RelativeDirection):
    name = "object_rel_direction_hard"
    variant = "hard"
    templates = (
        "If I am standing by the {standing} and facing the {facing}, is the {query} to my "
        "front-left, front-right, back-left, or back-right? The directions refer to the "
        "quadrants of a Cartesian plane (if I am standing at the origin and facing along the "
        "positive y-axis).",
        "Imagine I stand by the {standing} and face the {facing}. In which quadrant around me "
        "is the {query}: front-left, front-right, back-left, or back-right?",
        "Standing next to the {standing} and looking toward the {facing}, is the {query} to my "
        "front-left, front-right, back-left, or back-right (quadrants of a plane with me at "
        "the origin facing the positive y-axis)?",
    )
    levels = margin_levels((32.0, 25.0, 18.0, 13.0))
