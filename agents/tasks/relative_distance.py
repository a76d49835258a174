"""object_rel_distance: which of 2-4 categories is closest to a unique primary object.

VSI-Bench's rules: the primary is a unique instance; choices may have several instances
(the closest one counts); a question is ambiguous when any two choice distances lie within
15 cm (30 cm in rooms over 40 m^2), which every level states as `min_pair_gap_m`. Levels shrink the gap between the closest and the
runner-up and add choices; level 5 also wants a multi-instance choice when the scene has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations, pairwise
from typing import Any

import tools.geometry as g
from agents.records import Proposal, option_text
from agents.tasks.base import (
    LETTER_OF_ANSWER,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    program_source,
)
from agents.tasks.levels import need
from tools.geometry.rules import REL_DISTANCE_MARGIN_M

PROGRAM = """
def solve(scene):
    primary = scene.unique(PRIMARY)
    margin = MARGIN_LARGE_ROOM if g.floor_area(scene) > LARGE_ROOM_M2 else MARGIN
    distances = {}
    for category in CHOICES:
        others = [o for o in scene.objects_of(category) if o.instance_id != primary.instance_id]
        distances[category] = g.closest_distance([primary], others)
    ranked = sorted(CHOICES, key=lambda c: distances[c])
    for a, b in zip(ranked, ranked[1:]):
        if distances[b] - distances[a] < margin:
            raise g.Ambiguous(f"{a} and {b} are {distances[b] - distances[a]:.3f} m apart")
    return letter_of(ranked[0])
"""


class ObjectRelDistance(Task):
    name = "object_rel_distance"
    description = "Which of several categories is closest to a unique object."
    templates = (
        "Measuring from the closest point of each object, which of these objects ({choices}) "
        "is the closest to the {category}? If there are multiple instances of an object "
        "category, measure to the closest.",
        "Which of these objects ({choices}) is nearest to the {category}, measuring between "
        "the closest points? If a category has several instances, use the nearest one.",
        "Of the following objects ({choices}), which one is closest to the {category}? Measure "
        "from the closest point of each object; for categories with several instances, take "
        "the closest instance.",
    )
    levels: Mapping[int, LevelSettings] = {
        level: {**band, "min_pair_gap_m": REL_DISTANCE_MARGIN_M}
        for level, band in {
            1: {"choices": 2, "min_gap_m": 1.0},
            2: {"choices": 3, "min_gap_m": 0.6},
            3: {"choices": 4, "min_gap_m": 0.4},
            4: {"choices": 4, "min_gap_m": 0.25, "max_gap_m": 0.4},
            5: {
                "choices": 4,
                "min_gap_m": REL_DISTANCE_MARGIN_M,
                "max_gap_m": 0.25,
                "multi_instance": "preferred",
            },
        }.items()
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        settings = self.settings(level)
        n_choices = int(settings["choices"])
        margin = ctx.distance_margin
        min_gap = max(float(settings["min_gap_m"]), margin)
        max_gap = float(settings.get("max_gap_m", float("inf")))
        primaries = list(ctx.unique_objects)
        ctx.rng.shuffle(primaries)
        for primary in primaries:
            found = self._choose(ctx, primary, n_choices, margin, min_gap, max_gap, level == 5)
            if found is None:
                continue
            closest, distractors, gap = found
            options = self.place_options(ctx, closest, distractors)
            choice_text = ", ".join(option_text(o) for o in options)
            question, template_id = self.question(
                ctx, choices=choice_text, category=primary.category
            )
            program = program_source(
                PROGRAM + LETTER_OF_ANSWER,
                PRIMARY=primary.category,
                CHOICES=sorted([closest, *distractors]),
                OPTIONS=options,
                MARGIN=ctx.ambiguity.rel_distance_margin_m,
                MARGIN_LARGE_ROOM=ctx.ambiguity.rel_distance_margin_large_room_m,
                LARGE_ROOM_M2=ctx.ambiguity.large_room_area_m2,
            )
            referenced = [primary]
            for category in [closest, *distractors]:
                referenced += ctx.view.objects_of(category)
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                referenced=referenced,
                measured={"gap_m": round(gap, 3), "margin_m": margin},
            )
        raise CannotPose("no_choice_set", f"no {n_choices} choices with the level's gap")

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """gap_m: closest vs runner-up; pair_gap_m: the smallest gap between neighbours in
        the ranking (every pair must clear the near-tie margin)."""
        primary_name, choices = need(constants, "PRIMARY", "CHOICES")
        primary = view.unique(str(primary_name))
        distances = []
        for category in choices:
            others = [o for o in view.objects_of(str(category)) if o != primary]
            if not others:
                raise g.Ambiguous(f"choice {category!r} has no instance in the scene")
            distances.append(g.closest_distance([primary], others))
        gaps = [b - a for a, b in pairwise(sorted(distances))]
        return {"gap_m": gaps[0], "pair_gap_m": min(gaps), "choices": len(choices)}

    def _choose(
        self,
        ctx: TaskContext,
        primary: g.Object3D,
        n_choices: int,
        margin: float,
        min_gap: float,
        max_gap: float,
        want_multi: bool,
    ) -> tuple[str, list[str], float] | None:
        """(closest category, distractor categories, gap) or None when nothing fits."""
        distances: dict[str, float] = {}
        for category in ctx.visible_categories:
            others = [o for o in ctx.view.objects_of(category) if o != primary]
            if category != primary.category and others:
                distances[category] = g.closest_distance([primary], others)
        categories = sorted(distances)
        ctx.rng.shuffle(categories)
        fitting: list[tuple[str, list[str], float]] = []
        for combo in combinations(categories, n_choices):
            ranked = sorted(combo, key=lambda c: distances[c])
            gaps = [distances[b] - distances[a] for a, b in pairwise(ranked)]
            if min(gaps) < margin or not min_gap <= gaps[0] < max_gap:
                continue
            fitting.append((ranked[0], ranked[1:], gaps[0]))
            if len(fitting) >= 24:
                break
        if want_multi:
            multi = [f for f in fitting if any(ctx.view.count(c) > 1 for c in [f[0], *f[1]])]
            fitting = multi or fitting
        return fitting[ctx.rng.randrange(len(fitting))] if fitting else None
