"""obj_appearance_order: the order in which categories first appear in the video.

First appearance is the first solver frame in which an instance of the category is clearly
visible (`FrameView.clearly_visible`, so the answer is what the solver can see).
Appearances in the same frame or closer than `appearance_min_gap_s` are ambiguous; every
level states that gap as `min_gap_s`. Levels
shrink the number of solver frames between consecutive first appearances, go from three to
four categories, and at level 5 use distractors that differ from the truth by one swap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise, permutations
from typing import Any

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
from tools.geometry.rules import APPEARANCE_MIN_GAP_S

PROGRAM = """
def solve(scene):
    ordered = g.appearance_order(scene, CATEGORIES, min_gap_s=MIN_GAP_S, frames=FRAMES)
    return letter_of(", ".join(ordered))
"""


def first_positions(view: g.SceneView, frames: Sequence[int]) -> dict[str, int]:
    """Category -> position (0-based) in `frames` of the first frame clearly showing it."""
    firsts = g.first_appearances(view, frames=frames)
    position = {index: k for k, index in enumerate(frames)}
    result: dict[str, int] = {}
    for instance_id, index in firsts.items():
        category = view.object(instance_id).category
        result[category] = min(result.get(category, len(frames)), position[index])
    return result


class AppearanceOrder(Task):
    name = "obj_appearance_order"
    description = "Order of first appearance of several categories in the video."
    needs_frames = True
    templates = (
        "What will be the first-time appearance order of the following categories in the "
        "video: {choices}?",
        "In which order do the following categories first appear in the video: {choices}?",
        "Sort these categories by when each is first seen in the video: {choices}.",
    )
    levels: Mapping[int, LevelSettings] = {
        level: {**band, "min_gap_s": APPEARANCE_MIN_GAP_S}
        for level, band in {
            1: {"categories": 3, "min_frames_between": 3, "distractors": "random orders"},
            2: {"categories": 4, "min_frames_between": 3, "distractors": "random orders"},
            3: {"categories": 4, "min_frames_between": 2, "distractors": "random orders"},
            4: {"categories": 4, "min_frames_between": 1, "distractors": "random orders"},
            5: {"categories": 4, "min_frames_between": 1, "distractors": "one swap from the truth"},
        }.items()
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        frames = ctx.need_frames()
        settings = self.settings(level)
        n = int(settings["categories"])
        min_between = int(settings["min_frames_between"])
        firsts = first_positions(ctx.view, frames)
        for _ in range(60):
            chosen = ctx.rng.sample(sorted(firsts), n) if len(firsts) >= n else []
            ordered = sorted(chosen, key=lambda c: firsts[c])
            if not ordered or not self._spaced(ctx, frames, firsts, ordered, min_between):
                continue
            truth = ", ".join(ordered)
            distractors = self._distractors(ctx, ordered, near=level == 5)
            options = self.place_options(ctx, truth, distractors)
            shown = list(ordered)
            ctx.rng.shuffle(shown)
            question, template_id = self.question(ctx, choices=", ".join(shown))
            program = program_source(
                PROGRAM + LETTER_OF_ANSWER,
                CATEGORIES=sorted(shown),
                FRAMES=list(frames),
                MIN_GAP_S=ctx.ambiguity.appearance_min_gap_s,
                OPTIONS=options,
            )
            gaps = [firsts[b] - firsts[a] for a, b in pairwise(ordered)]
            referenced = [o for c in ordered for o in ctx.view.objects_of(c)]
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                referenced=referenced,
                measured={"frames_between": min(gaps)},
            )
        raise CannotPose("no_spaced_appearances", f"{len(firsts)} categories appear")

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """frames_between / gap_s: the closest consecutive first appearances in the solver's
        frames, in frames and in seconds; categories from CATEGORIES or the referenced objects."""
        categories = constants.get("CATEGORIES") or sorted(
            {view.object(i).category for i in proposal.referenced_instances}
        )
        frames = proposal.frame_indices or [f.index for f in view.frames]
        firsts = first_positions(view, frames)
        missing = [c for c in categories if c not in firsts]
        if missing:
            raise g.Ambiguous(f"{', '.join(map(str, missing))} never clearly visible")
        ordered = sorted(categories, key=lambda c: firsts[c])
        times = [view.frame(frames[firsts[c]]).timestamp for c in ordered]
        return {
            "categories": len(categories),
            "frames_between": min(firsts[b] - firsts[a] for a, b in pairwise(ordered)),
            "gap_s": min(b - a for a, b in pairwise(times)),
        }

    def _spaced(
        self,
        ctx: TaskContext,
        frames: list[int],
        firsts: dict[str, int],
        ordered: list[str],
        min_between: int,
    ) -> bool:
        for a, b in pairwise(ordered):
            if firsts[b] - firsts[a] < min_between:
                return False
            time_a = ctx.view.frame(frames[firsts[a]]).timestamp
            time_b = ctx.view.frame(frames[firsts[b]]).timestamp
            if time_b - time_a < ctx.ambiguity.appearance_min_gap_s:
                return False
        return True

    def _distractors(self, ctx: TaskContext, ordered: list[str], *, near: bool) -> list[str]:
        truth = tuple(ordered)
        if near:
            swaps = []
            for i in range(len(ordered) - 1):
                swapped = list(ordered)
                swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
                swaps.append(", ".join(swapped))
            return swaps[:3]
        others = [p for p in permutations(ordered) if p != truth]
        return [", ".join(p) for p in ctx.rng.sample(others, 3)]
