"""What every verifier check shares: its findings, what it may look at, its two shapes.

A check is one class with a `name`, a `config_class` (a dataclass with help text) and
`run(samples, ctx)`, which gets the samples still pending and returns one `Finding` or
None per sample, in order. A finding with a reason rejects the sample; one without a
reason is a note that the sample keeps. Checks that judge one sample at a time subclass
`SampleCheck` and implement `check_one`; an exception there rejects that one sample with
`check_error` (kept for audit) instead of stopping the run.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from agents.execution import ExecutionConfig
from agents.records import Sample
from agents.verifier.reasons import RejectReason
from tools.geometry import SceneView

if TYPE_CHECKING:
    from agents.solver import SolverBackend
    from tools.sandbox import Sandbox


@dataclass(frozen=True)
class Finding:
    """A check's word on one sample: a rejection (with reason) or a note (reason None)."""

    reason: RejectReason | None
    detail: str

    @classmethod
    def reject(cls, reason: RejectReason, detail: str) -> Finding:
        return cls(reason, detail)

    @classmethod
    def note(cls, detail: str) -> Finding:
        return cls(None, detail)


@dataclass
class CheckContext:
    """What checks may look at: scenes, the sandbox, the solver, execution limits."""

    scenes: Mapping[str, Any]  # scene id -> Scene or its JSON dict
    sandbox: Sandbox | None = None
    solver: SolverBackend | None = None
    limits: ExecutionConfig = field(default_factory=ExecutionConfig)
    iteration: int = 0
    _views: dict[str, SceneView] = field(default_factory=dict, repr=False)

    def view(self, scene_id: str) -> SceneView | None:
        """The geometry view of a scene (built once), or None when the scene is unknown."""
        if scene_id not in self.scenes:
            return None
        if scene_id not in self._views:
            self._views[scene_id] = SceneView(self.scenes[scene_id])
        return self._views[scene_id]


class Check(ABC):
    """One verification step; subclasses set `name` and `config_class`, implement `run`."""

    name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any = None) -> None:
        if config is None:
            config = self.config_class()
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"check {self.name!r} takes a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config

    def skip_reason(self, ctx: CheckContext) -> str | None:
        """Why the whole check cannot run this time (recorded as a note), or None."""
        return None

    @abstractmethod
    def run(self, samples: Sequence[Sample], ctx: CheckContext) -> list[Finding | None]:
        """One finding (or None: nothing to say) per sample, in order."""


class SampleCheck(Check):
    """A check that judges each sample on its own."""

    @abstractmethod
    def check_one(self, sample: Sample, ctx: CheckContext) -> Finding | None:
        """The finding for one sample, or None when it passes silently."""

    def run(self, samples: Sequence[Sample], ctx: CheckContext) -> list[Finding | None]:
        findings: list[Finding | None] = []
        for sample in samples:
            try:
                findings.append(self.check_one(sample, ctx))
            except Exception as error:  # one unreadable sample must not stop the round
                detail = f"{self.name} check failed: {type(error).__name__}: {error}"
                findings.append(Finding.reject(RejectReason.CHECK_ERROR, detail[:2000]))
        return findings


def config_help(config_class: type) -> dict[str, str]:
    """Field name -> help text of a check's config (for docs and error messages)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(config_class)}
