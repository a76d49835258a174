"""Check 4, ambiguity: answers too close to call, and objects the question cannot single out.

Programs apply their task's margins themselves and raise `geometry.Ambiguous` (execution
records those under this check). Here the host adds what it can re-check cheaply, with
the verifier's own `AmbiguityConfig` (so a round can be verified with stricter margins
than it was proposed with):

- non-unique referents: the question says "the chair" but the scene has several chairs;
- near-tie distances (`object_rel_distance`), near-boundary angles
  (`object_rel_direction_*`) and near-simultaneous first appearances
  (`obj_appearance_order`), recomputed from the constants the task library writes into
  its programs (`PRIMARY`, `CHOICES`, `STANDING`...). Programs without those constants
  (most LLM programs) rely on their own `Ambiguous`.

Adding a re-check: a function `(view, constants, margins) -> problem or None` and one line
in `RECHECKS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import tools.geometry as g
from agents.records import Sample
from agents.tasks import AmbiguityConfig
from agents.tasks.base import program_constants
from agents.verifier.base import CheckContext, Finding, SampleCheck
from agents.verifier.reasons import RejectReason
from agents.verifier.text import normalise

Recheck = Callable[[g.SceneView, Mapping[str, Any], AmbiguityConfig], "str | None"]


@dataclass
class AmbiguityCheckConfig:
    """Which host-side re-checks run, with which margins."""

    margins: AmbiguityConfig = field(
        default_factory=AmbiguityConfig,
        metadata={"help": "The task library's margins, as the verifier applies them."},
    )
    unique_referents: bool = field(
        default=True,
        metadata={"help": "Reject 'the X' when the scene has several X (or none)."},
    )
    recheck_margins: bool = field(
        default=True, metadata={"help": "Re-check task margins from the programs' constants."}
    )


def nearest_tie(
    view: g.SceneView, constants: Mapping[str, Any], margins: AmbiguityConfig
) -> str | None:
    """object_rel_distance: two choices' distances to the primary within the margin."""
    primary = view.unique(str(constants["PRIMARY"]))
    distances: dict[str, float] = {}
    for category in constants["CHOICES"]:
        others = [o for o in view.objects_of(str(category)) if o != primary]
        if not others:
            return f"choice {category!r} has no instance in the scene"
        distances[str(category)] = g.closest_distance([primary], others)
    margin = margins.distance_margin(g.floor_area(view))
    ranked = sorted(distances, key=distances.__getitem__)
    for a, b in pairwise(ranked):
        if distances[b] - distances[a] < margin:
            gap = distances[b] - distances[a]
            return f"{a} and {b} are {gap:.3f} m apart in distance (margin {margin} m)"
    return None


def boundary_angle(
    view: g.SceneView, constants: Mapping[str, Any], margins: AmbiguityConfig
) -> str | None:
    """object_rel_direction_*: the query within the margin of a direction boundary, or the
    three objects too close together or too far apart."""
    standing, facing, query = (
        view.unique(str(constants[key])) for key in ("STANDING", "FACING", "QUERY")
    )
    for a, b in ((standing, facing), (standing, query), (facing, query)):
        distance = g.center_distance(a, b)
        if not margins.direction_min_separation_m <= distance <= margins.direction_max_separation_m:
            return f"{a.category} and {b.category} are {distance:.2f} m apart"
    level = str(constants["LEVEL"])
    g.relative_direction_or_ambiguous(standing, facing, query, level, margins.direction_margin_deg)
    return None


def simultaneous_appearance(
    view: g.SceneView, constants: Mapping[str, Any], margins: AmbiguityConfig
) -> str | None:
    """obj_appearance_order: two categories first clearly seen in the same solver frame, or
    too close in time (the geometry library's own rule, `g.appearance_order`)."""
    try:
        g.appearance_order(
            view,
            [str(c) for c in constants["CATEGORIES"]],
            min_gap_s=margins.appearance_min_gap_s,
            frames=[int(i) for i in constants["FRAMES"]],
        )
    except g.Ambiguous as error:
        return str(error)
    return None


#: question_type -> host-side margin re-check (one line per task).
RECHECKS: dict[str, Recheck] = {
    "object_rel_distance": nearest_tie,
    "object_rel_direction_easy": boundary_angle,
    "object_rel_direction_medium": boundary_angle,
    "object_rel_direction_hard": boundary_angle,
    "obj_appearance_order": simultaneous_appearance,
}


class AmbiguityCheck(SampleCheck):
    """Rejects questions whose referent is not unique or whose answer sits within a margin."""

    name = "ambiguity"
    config_class = AmbiguityCheckConfig
    config: AmbiguityCheckConfig

    def check_one(self, sample: Sample, ctx: CheckContext) -> Finding | None:
        view = ctx.view(sample.proposal.scene_id)
        if view is None:
            return None  # execution already rejects unknown scenes
        if self.config.unique_referents:
            shared = non_unique_referents(sample.proposal.question, view)
            if shared:
                counts = ", ".join(f"{c} x{view.count(c)}" for c in shared)
                return Finding.reject(
                    RejectReason.AMBIGUOUS_REFERENT,
                    f"the question names 'the {shared[0]}' but the scene has {counts}",
                )
        recheck = RECHECKS.get(sample.proposal.question_type)
        if not self.config.recheck_margins or recheck is None:
            return None
        try:
            constants = program_constants(sample.proposal.program)
        except (SyntaxError, ValueError):
            return None
        try:
            problem = recheck(view, constants, self.config.margins)
        except KeyError:
            return None  # not the task library's constants: the program's own rule applies
        except g.Ambiguous as error:
            problem = str(error)
        if problem is None:
            return None
        return Finding.reject(RejectReason.AMBIGUOUS, problem)


def non_unique_referents(question: str, view: g.SceneView) -> list[str]:
    """Categories the question calls 'the X' (singular) that are not exactly one object.

    Longer category names are matched first and masked, so 'the table lamp' does not read
    as 'the table'."""
    text = normalise(question)
    counts = view.counts()
    found = []
    for category in sorted((c for c in counts if c.strip()), key=len, reverse=True):
        plural = r"\(s\)|e?s(?![a-z0-9])|[a-z0-9]"
        pattern = re.compile(rf"(?<![a-z0-9])the {re.escape(category)}(?!{plural})")
        if pattern.search(text):
            if counts[category] != 1:
                found.append(category)
            text = pattern.sub(" ", text)
    return found
