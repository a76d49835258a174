"""Check 5, level: the submission is at the difficulty level it was proposed for.

The curriculum pays out per arm (task type, level), so a level-5 arm filled with level-1
questions would teach it nothing. The task measures the proposal from the scene and its
program's constants (`Task.measure_level`: margin, gap, frames between appearances, turns,
option spacing, ...) and `agents.tasks.levels.band_problem` compares that with the level's
stated band; the same rule holds for programmatic and LLM proposals. A program without the
constants the measurement needs is rejected too (the detail says which to define), unless
`unmeasurable` is "note".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import tools.geometry as g
from agents.records import Sample
from agents.tasks import TASKS
from agents.tasks.levels import CannotMeasure, level_problem
from agents.verifier.base import CheckContext, Finding, SampleCheck
from agents.verifier.reasons import RejectReason


@dataclass
class LevelCheckConfig:
    """What to do with proposals whose level cannot be measured."""

    unmeasurable: Literal["reject", "note"] = field(
        default="reject",
        metadata={
            "help": "A program without the constants its task's level is measured from: "
            "reject it (wrong_level) or keep it with a note."
        },
    )


class LevelCheck(SampleCheck):
    """Rejects proposals whose measured difficulty is outside their level's band."""

    name = "level"
    config_class = LevelCheckConfig
    config: LevelCheckConfig

    def check_one(self, sample: Sample, ctx: CheckContext) -> Finding | None:
        proposal = sample.proposal
        task = TASKS.get(proposal.question_type)
        view = ctx.view(proposal.scene_id)
        if task is None or view is None:
            return None  # intake and execution report unknown tasks and scenes
        if proposal.level not in task.levels:
            return Finding.reject(
                RejectReason.WRONG_LEVEL,
                f"{proposal.question_type} has levels {sorted(task.levels)}, not {proposal.level}",
            )
        where = f"level {proposal.level} of {proposal.question_type}"
        try:
            problem = level_problem(task, view, proposal, sample.ground_truth)
        except CannotMeasure as error:
            if self.config.unmeasurable == "note":
                return Finding.note(f"{where} not measured: {error}")
            return Finding.reject(RejectReason.WRONG_LEVEL, f"{where} not measurable: {error}")
        except (g.Ambiguous, KeyError, ValueError, TypeError) as error:
            return Finding.reject(
                RejectReason.WRONG_LEVEL, f"{where} not measurable on this scene: {error}"
            )
        if problem is None:
            return None
        return Finding.reject(RejectReason.WRONG_LEVEL, f"not {where}: {problem}")
