"""What every proposer promises, so the loop can swap the programmatic one for an LLM agent.

A proposer is told how many proposals of each arm (task type, difficulty level) to make
(the curriculum policy decides that from the solver's feedback) and returns them in a
`ProposalBatch`, together with what it could not make and why. `plan_and_propose` is the
round as the loop runs it: allocate with a policy, then propose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agents.curriculum import Arm, DifficultyFeedback, LearnabilityBandit, UniformPolicy
from agents.records import Proposal, Sample
from agents.tasks import LEVELS, Task
from common.errors import UserError
from scenes.schema import Scene


class ArmOutcome(BaseModel):
    """How one arm's quota went: asked, made, and why the rest could not be made."""

    question_type: str
    level: int
    requested: int = Field(ge=0)
    proposed: int = Field(ge=0, description="Made, refills included.")
    refilled: int = Field(
        default=0, ge=0, description="Made beyond the quota, in place of other arms' shortfall."
    )
    skipped: dict[str, int] = Field(
        default_factory=dict, description="Reason code -> failed attempts (scenes tried)."
    )


class ProposalBatch(BaseModel):
    """One round of proposals plus the bookkeeping the CLI and the graph report."""

    proposer_id: str
    proposals: list[Proposal] = Field(default_factory=list)
    arms: list[ArmOutcome] = Field(default_factory=list)

    def skipped_by_task(self) -> dict[str, dict[str, int]]:
        """Task type -> reason -> attempts that failed for it (all levels together)."""
        table: dict[str, dict[str, int]] = {}
        for arm in self.arms:
            reasons = table.setdefault(arm.question_type, {})
            for reason, count in arm.skipped.items():
                reasons[reason] = reasons.get(reason, 0) + count
        return table


@runtime_checkable
class Proposer(Protocol):
    """The interface the loop uses for any proposer (programmatic or LLM)."""

    proposer_id: str

    def arms(self) -> list[Arm]:
        """Every (task type, level) this proposer can be asked for."""
        ...

    def propose(
        self,
        scenes: Sequence[Scene],
        quotas: Mapping[Arm, int],
        on_progress: Callable[[int], None] | None = None,
    ) -> ProposalBatch:
        """About `quotas[arm]` proposals per arm, spread over `scenes`; `on_progress(n)`
        reports n more quota slots done (made or given up)."""
        ...


Policy = LearnabilityBandit | UniformPolicy


@dataclass(frozen=True)
class ProposerCommon:
    """What every proposer takes from the run's settings outside `proposer.settings`:
    one place decides each of these, so `proposer.settings` may not set them again."""

    seed: int = 0
    tasks: list[str] | None = None
    model: str | None = None
    num_solver_frames: int = 16
    program_timeout_s: float = 10.0
    program_memory_mb: int = 1024


@dataclass
class ProposerResources:
    """What a proposer may use while it runs (built by the caller, never by the registry)."""

    sandbox: Any = None
    chat_model: Any = None  # a BaseChatModel instance to use instead of the config's model
    scene_dirs: Mapping[str, str | Path] = field(default_factory=dict)
    trajectories: str | Path | None = None
    feedback: DifficultyFeedback | None = None
    samples: Iterable[Sample] = ()


def select_tasks(names: Sequence[str] | None, registry: Mapping[str, Task]) -> dict[str, Task]:
    """The tasks a proposer is configured for (all of `registry` when no names are given)."""
    names = names or list(registry)
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise UserError(
            f"unknown task type(s) {', '.join(unknown)}; known: {', '.join(sorted(registry))}"
        )
    return {name: registry[name] for name in names}


def task_arms(tasks: Mapping[str, Task]) -> list[Arm]:
    """Every (task type, level) of `tasks`: what a proposer over them can be asked for."""
    return [(name, level) for name, task in tasks.items() for level in sorted(task.levels)]


def check_request(
    tasks: Mapping[str, Task], scenes: Sequence[Scene], quotas: Mapping[Arm, int]
) -> None:
    """Refuse a round up front when there are no scenes or an arm is not one of `tasks`."""
    if not scenes:
        raise UserError("no scenes to propose on; generate some with 'ouroboros scenes generate'")
    for arm in sorted(quotas):
        if arm[0] not in tasks or arm[1] not in LEVELS:
            raise UserError(f"this proposer has no arm {arm}; its arms: {task_arms(tasks)}")


def plan_and_propose(
    proposer: Proposer,
    scenes: Sequence[Scene],
    total: int,
    policy: Policy,
    feedback: DifficultyFeedback | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ProposalBatch:
    """Allocate `total` proposals over the proposer's arms with `policy`, then propose."""
    quotas = policy.allocate(proposer.arms(), total, feedback)
    return proposer.propose(scenes, quotas, on_progress)
