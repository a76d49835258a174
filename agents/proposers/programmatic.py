"""The default proposer: task templates from the task library, no LLM.

For each arm (task type, level) it makes its quota of proposals, the k-th one starting on
a different scene so a round covers the scene pool; when a task cannot pose a question on
a scene (too few unique objects, no frames, nothing at that difficulty) it counts the
reason and tries the next scene, up to `scene_attempts` scenes; quota an arm cannot use
goes to arms that met theirs (`refill`). Everything is seeded:
the same scenes, quotas and seed give the same proposals, whatever order arms come in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agents.curriculum import Arm
from agents.proposers.base import (
    ArmOutcome,
    ProposalBatch,
    ProposerCommon,
    ProposerResources,
    check_request,
    select_tasks,
    task_arms,
)
from agents.records import Proposal
from agents.tasks import TASKS, AmbiguityConfig, CannotPose, Task, TaskContext
from agents.tasks.options import LetterBalancer
from common.settings import build_dataclass, reject_reserved
from scenes.schema import Scene


@dataclass
class ProgrammaticConfig:
    """Settings of the programmatic proposer."""

    seed: int = field(default=0, metadata={"help": "Seed; same seed, scenes, quotas: same output."})
    tasks: list[str] | None = field(
        default=None, metadata={"help": "Task types to propose (default: every registered one)."}
    )
    num_solver_frames: int = field(
        default=16, metadata={"help": "Frames the solver sees per question (spread evenly)."}
    )
    scene_attempts: int = field(
        default=6, metadata={"help": "Scenes tried for one proposal before giving it up."}
    )
    refill: bool = field(
        default=True,
        metadata={
            "help": "Give the quota that arms could not use (nothing to ask at their level, "
            "only duplicates left) to arms that met theirs, so a round keeps its size."
        },
    )
    ambiguity: AmbiguityConfig = field(
        default_factory=AmbiguityConfig, metadata={"help": "Ambiguity margins of the tasks."}
    )


class ProgrammaticProposer:
    """Proposals from the task library; see the module docstring for the procedure."""

    proposer_id = "programmatic"
    config_class = ProgrammaticConfig
    #: ProgrammaticConfig fields the run's other settings decide (name -> that setting).
    reserved: ClassVar[dict[str, str]] = {
        "seed": "seed",
        "tasks": "proposer.tasks",
        "num_solver_frames": "solver.settings.num_frames",
    }

    @classmethod
    def make_config(
        cls, common: ProposerCommon, settings: Mapping[str, Any], where: str = "proposer.settings"
    ) -> ProgrammaticConfig:
        """The config from the run's shared values plus `proposer.settings`."""
        reject_reserved(settings, cls.reserved, where)
        config = build_dataclass(ProgrammaticConfig, settings, where, hidden=cls.reserved)
        config.seed, config.tasks = common.seed, common.tasks
        config.num_solver_frames = common.num_solver_frames
        return config

    @classmethod
    def arms_for(cls, config: ProgrammaticConfig) -> list[Arm]:
        """The arms a proposer with `config` offers, without building it."""
        return task_arms(select_tasks(config.tasks, TASKS))

    @classmethod
    def from_config(
        cls, config: ProgrammaticConfig, resources: ProposerResources | None = None
    ) -> ProgrammaticProposer:
        """The registry's constructor; templates need no sandbox, model or feedback."""
        return cls(config)

    def __init__(
        self, config: ProgrammaticConfig | None = None, tasks: Mapping[str, Task] | None = None
    ) -> None:
        self.config = config or ProgrammaticConfig()
        self.tasks = select_tasks(self.config.tasks, TASKS if tasks is None else tasks)

    def arms(self) -> list[Arm]:
        return task_arms(self.tasks)

    def propose(
        self,
        scenes: Sequence[Scene],
        quotas: Mapping[Arm, int],
        on_progress: Callable[[int], None] | None = None,
    ) -> ProposalBatch:
        check_request(self.tasks, scenes, quotas)
        scenes = sorted(scenes, key=lambda s: s.id)
        letters = LetterBalancer()
        contexts = [
            TaskContext.build(
                scene,
                rng=random.Random(0),
                ambiguity=self.config.ambiguity,
                letters=letters,
                num_solver_frames=self.config.num_solver_frames,
            )
            for scene in scenes
        ]
        run = _Round(contexts=contexts, seen=set())
        outcomes: dict[Arm, ArmOutcome] = {}
        made: dict[Arm, list[Proposal]] = {}
        for arm in sorted(quotas):
            name, level = arm
            outcomes[arm] = ArmOutcome(
                question_type=name, level=level, requested=quotas[arm], proposed=0
            )
            made[arm] = []
            for k in range(quotas[arm]):
                proposal = self._one(arm, k, run, outcomes[arm])
                if proposal is not None:
                    made[arm].append(proposal)
                if on_progress is not None:
                    on_progress(1)
        if self.config.refill:
            self._refill(quotas, outcomes, made, run)
        batch = ProposalBatch(proposer_id=self.proposer_id)
        for arm in sorted(made):
            batch.proposals += made[arm]
            outcome = outcomes[arm]
            outcome.proposed = len(made[arm])
            outcome.skipped = dict(sorted(outcome.skipped.items()))
            batch.arms.append(outcome)
        return batch

    def _refill(
        self,
        quotas: Mapping[Arm, int],
        outcomes: dict[Arm, ArmOutcome],
        made: dict[Arm, list[Proposal]],
        run: _Round,
    ) -> None:
        """Hand the quota that arms could not use to arms that met theirs, one at a time."""
        missing = sum(quotas.values()) - sum(len(m) for m in made.values())
        productive = [arm for arm in sorted(made) if quotas[arm] and len(made[arm]) == quotas[arm]]
        while missing > 0 and productive:
            for arm in list(productive):
                if missing == 0:
                    break
                proposal = self._one(arm, len(made[arm]), run, outcomes[arm])
                if proposal is None:
                    productive.remove(arm)
                    continue
                made[arm].append(proposal)
                outcomes[arm].refilled += 1
                missing -= 1

    def _one(self, arm: Arm, k: int, run: _Round, outcome: ArmOutcome) -> Proposal | None:
        """The k-th proposal of an arm, trying `scene_attempts` scenes from its own start."""
        name, level = arm
        task = self.tasks[name]
        contexts = run.contexts
        offset = random.Random(f"{self.config.seed}:{name}:{level}").randrange(len(contexts))
        for attempt in range(self.config.scene_attempts):
            ctx = contexts[(offset + k + attempt) % len(contexts)]
            reason = "needs_frames"
            if not task.needs_frames or ctx.has_frames:
                ctx.rng = random.Random(f"{self.config.seed}:{name}:{level}:{k}:{attempt}")
                try:
                    proposal = task.propose(ctx, level)
                except CannotPose as cannot:
                    reason = cannot.reason
                else:
                    key = semantic_key(proposal)
                    if key not in run.seen:
                        run.seen.add(key)
                        return proposal
                    reason = "duplicate"
            outcome.skipped[reason] = outcome.skipped.get(reason, 0) + 1
        return None


@dataclass
class _Round:
    """State shared by every arm of one round: the scene contexts and the questions made."""

    contexts: list[TaskContext]
    seen: set[str]


def semantic_key(proposal: Proposal) -> str:
    """What makes two proposals the same question: scene, type, level, frames, and the
    program without its OPTIONS line (paraphrases and letter order do not count), so a
    round never asks the same thing twice at one level, however it is worded."""
    program = "\n".join(
        line for line in proposal.program.splitlines() if not line.startswith("OPTIONS = ")
    )
    return repr(
        (proposal.scene_id, proposal.question_type, proposal.level, proposal.frame_indices, program)
    )
