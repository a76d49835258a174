"""object_counting: how many of a category the room holds (VSI-Bench: counts of 1 excluded).

Counts follow the source's published counts where it gives them (VSI-Bench metadata), so
answers equal the benchmark's. With frames, every instance must be visible to the solver.
"""

from __future__ import annotations

from agents.tasks.base import TaskContext
from agents.tasks.numeric import NumericTarget, NumericTask, numeric_levels

HARD_COUNT = 5  # level 5 asks about categories with at least this many instances


class ObjectCounting(NumericTask):
    name = "object_counting"
    description = "How many objects of a category are in the room."
    templates = (
        "How many {category}(s) are in this room?",
        "Count the {category}(s) in this room. How many are there?",
        "What is the number of {category}(s) in this room?",
        "In total, how many {category}(s) can be found in this room?",
    )
    levels = numeric_levels(
        easy=f"2 to {HARD_COUNT - 1} instances", hard=f">= {HARD_COUNT} instances"
    )
    answer_decimals = 0
    measure_body = "def measure(scene):\n    return scene.count(CATEGORY)\n"

    def is_hard(self, value: float) -> bool:
        return value >= HARD_COUNT

    def targets(self, ctx: TaskContext) -> list[NumericTarget]:
        targets = []
        for category in ctx.visible_categories:
            count = ctx.view.count(category)
            if count < 2:
                continue
            targets.append(
                NumericTarget(
                    value=count,
                    fields={"category": category},
                    constants={"CATEGORY": category},
                    referenced=ctx.view.objects_of(category),
                    hard=self.is_hard(count),
                    measured={"count": count},
                )
            )
        return targets
