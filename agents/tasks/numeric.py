"""Shared shape of the numeric tasks (counting, sizes, distances, room size).

Levels 1-3 ask the number as a multiple choice (VSI-Bench's numeric-as-choice variant)
whose options get closer from level to level; levels 4-5 ask for the number itself, level
5 on the harder half of the targets (each task says what that is). A subclass lists the
targets a scene offers and writes `measure(scene)`; the program then returns either the
number (in the unit the question names) or the letter of the nearest option.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, ClassVar

import tools.geometry as g
from agents.records import AnswerKind, Proposal, option_text
from agents.tasks.base import (
    NEAREST_OPTION,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    pick,
    program_source,
)
from agents.tasks.options import numeric_options

CHOICE_SPACING: Mapping[int, float] = {1: 1.6, 2: 1.35, 3: 1.15}


@dataclass
class NumericTarget:
    """One thing to ask about: its value (question units), template fields, program constants."""

    value: float
    fields: dict[str, str]
    constants: dict[str, Any]
    referenced: Sequence[g.Object3D] = ()
    hard: bool = False  # belongs to level 5's half of the targets
    measured: dict[str, float | int | str] = field(default_factory=dict)


def numeric_levels(easy: str, hard: str) -> dict[int, LevelSettings]:
    """The five levels of a numeric task; `easy`/`hard` describe the level 4/5 targets."""
    levels: dict[int, LevelSettings] = {
        level: {"format": "multiple_choice", "options": 4, "min_option_ratio": ratio}
        for level, ratio in CHOICE_SPACING.items()
    }
    levels[4] = {"format": "numeric", "targets": easy}
    levels[5] = {"format": "numeric", "targets": hard}
    return levels


class NumericTask(Task):
    """A task whose answer is a number: subclasses give targets and the measuring code."""

    answer_kinds: ClassVar[tuple[AnswerKind, ...]] = ("multiple_choice", "numeric")
    measure_body: ClassVar[str]  # defines measure(scene) -> number in question units
    option_minimum: ClassVar[float] = 1.0

    @abstractmethod
    def is_hard(self, value: float) -> bool:
        """Whether an answer (question units) belongs to level 5's half of the targets."""

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """option_ratio: the closest ratio of neighbouring options (levels 1-3); targets:
        which half of the targets the answer falls in (levels 4-5), read within half a
        unit of the answer's rounding so a rounded answer on the line fits either."""
        if proposal.options:
            numbers = sorted(float(option_text(o)) for o in proposal.options)
            if numbers[0] <= 0:
                return {"option_ratio": 0.0}
            return {"option_ratio": min(b / a for a, b in pairwise(numbers))}
        if answer is None:
            return {}
        value = float(answer)
        half = 0.5 * 10 ** -(self.answer_decimals or 0)
        hard = {self.is_hard(value - half), self.is_hard(value + half)}
        if len(hard) > 1:
            return {"targets": str(self.levels[proposal.level].get("targets", ""))}
        return {"targets": str(self.levels[5 if hard.pop() else 4]["targets"])}

    @abstractmethod
    def targets(self, ctx: TaskContext) -> list[NumericTarget]:
        """Everything this scene can be asked about (any level)."""

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        settings = self.settings(level)
        targets = self.targets(ctx)
        if level >= 4:
            targets = [t for t in targets if t.hard == (level == 5)]
        target: NumericTarget = pick(ctx, targets, f"target_level_{level}")
        question, template_id = self.question(ctx, **target.fields)
        decimals = self.answer_decimals or 0
        options: list[str] = []
        constants = dict(target.constants)
        if settings["format"] == "multiple_choice":
            try:
                options = numeric_options(
                    target.value,
                    n_options=int(settings["options"]),
                    min_ratio=float(settings["min_option_ratio"]),
                    decimals=decimals,
                    key=self.name,
                    rng=ctx.rng,
                    letters=ctx.letters,
                    minimum=self.option_minimum,
                )
            except ValueError as error:
                raise CannotPose("no_room_for_options", str(error)) from error
            constants["OPTIONS"] = options
            solve = "def solve(scene):\n    return nearest_letter(measure(scene))\n"
            body = self.measure_body + "\n" + NEAREST_OPTION + "\n" + solve
        else:
            body = self.measure_body + "\n\ndef solve(scene):\n    return measure(scene)\n"
        return self.proposal(
            ctx,
            level,
            question=question,
            template_id=template_id,
            program=program_source(body, **constants),
            options=options,
            referenced=target.referenced,
            measured=target.measured,
        )
