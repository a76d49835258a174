"""obj_appearance_order: the order in which categories first appear in the video.

First appearance is the first solver frame in which an instance of the category covers at
least `min_visible_fraction` of the image (so the answer is what the solver can see).
Appearances in the same frame or closer than `appearance_min_gap_s` are ambiguous. Levels
shrink the number of solver frames between consecutive first appearances, go from three to
four categories, and at level 5 use distractors that differ from the truth by one swap.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise, permutations

from agents.records import Proposal
from agents.tasks.base import (
    LETTER_OF_ANSWER,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    program_source,
)

PROGRAM = """
def first_frame(scene, category):
    for index in FRAMES:
        frame = scene.frame(index)
        threshold = max(int(frame.intrinsics["width"] * frame.intrinsics["height"] * MIN_FRACTION), 1)
        if any(frame.pixels(o.instance_id) >= threshold for o in scene.objects_of(category)):
            return frame
    raise g.Ambiguous(f"{category} never appears in the frames")


def solve(scene):
    firsts = {c: first_frame(scene, c) for c in CATEGORIES}
    ordered = sorted(CATEGORIES, key=lambda c: firsts[c].index)
    for a, b in zip(ordered, ordered[1:]):
        gap = firsts[b].timestamp - firsts[a].timestamp
        if firsts[a].index == firsts[b].index or gap < MIN_GAP_S:
            raise g.Ambiguous(f"{a} and {b} first appear {gap:.2f} s apart")
    return letter_of(", ".join(ordered))
"""


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
        1: {"categories": 3, "min_frames_between": 3, "distractors": "random orders"},
        2: {"categories": 4, "min_frames_between": 3, "distractors": "random orders"},
        3: {"categories": 4, "min_frames_between": 2, "distractors": "random orders"},
        4: {"categories": 4, "min_frames_between": 1, "distractors": "random orders"},
        5: {"categories": 4, "min_frames_between": 1, "distractors": "one swap from the truth"},
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        frames = ctx.need_frames()
        settings = self.settings(level)
        n = int(settings["categories"])
        min_between = int(settings["min_frames_between"])
        firsts = self._first_positions(ctx, frames)
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
                MIN_FRACTION=ctx.ambiguity.min_visible_fraction,
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

    def _first_positions(self, ctx: TaskContext, frames: list[int]) -> dict[str, int]:
        """Category -> position (0-based) of its first solver frame."""
        firsts: dict[str, int] = {}
        for position, index in enumerate(frames):
            for obj in ctx.visible_in_frame(index):
                firsts.setdefault(obj.category, position)
        return firsts

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
