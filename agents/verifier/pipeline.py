"""The verifier: candidates in, every one `accepted` or `rejected` with a reason out.

Order: intake (malformed input), execution (first run via `agents.execution.execute` for
proposals not yet run, then a perturbed second run), typed answer, agreement, ambiguity,
level, grounding, de-duplication, blind check. Each check sees only the samples still pending.

Adding a check: a `Check` subclass with its own config dataclass (see `base.py`), one line
in `CHECKS`, and, to configure it from files, a field of the same name in `VerifierConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.execution import ExecutionConfig, execute
from agents.records import Proposal, Sample
from agents.verifier.agreement import AgreementCheck, AgreementConfig
from agents.verifier.ambiguity import AmbiguityCheck, AmbiguityCheckConfig
from agents.verifier.base import Check, CheckContext, Finding
from agents.verifier.blind import BlindCheck, BlindConfig
from agents.verifier.dedup import DedupCheck, DedupConfig
from agents.verifier.determinism import DeterminismCheck, DeterminismConfig
from agents.verifier.grounding import GroundingCheck, GroundingConfig
from agents.verifier.intake import IntakeConfig, admit
from agents.verifier.level import LevelCheck, LevelCheckConfig
from agents.verifier.reasons import check_of
from agents.verifier.report import Audit, VerificationReport
from agents.verifier.typed import TypedAnswerCheck, TypedAnswerConfig
from common.errors import UserError

if TYPE_CHECKING:
    from agents.solver import SolverBackend
    from tools.sandbox import Sandbox

#: The checks, in the order they run: name -> class (one line per check).
CHECKS: dict[str, type[Check]] = {
    "execution": DeterminismCheck,
    "typed_answer": TypedAnswerCheck,
    "agreement": AgreementCheck,
    "ambiguity": AmbiguityCheck,
    "level": LevelCheck,
    "grounding": GroundingCheck,
    "dedup": DedupCheck,
    "blind": BlindCheck,
}


@dataclass
class VerifierConfig:
    """Which checks run (in order) and each check's settings."""

    checks: list[str] = field(
        default_factory=lambda: list(CHECKS),
        metadata={"help": f"Checks to run, in order; known: {', '.join(CHECKS)}."},
    )
    limits: ExecutionConfig = field(
        default_factory=ExecutionConfig, metadata={"help": "Sandbox limits for both runs."}
    )
    intake: IntakeConfig = field(default_factory=IntakeConfig, metadata={"help": "Size limits."})
    execution: DeterminismConfig = field(
        default_factory=DeterminismConfig, metadata={"help": "The second (perturbed) run."}
    )
    typed_answer: TypedAnswerConfig = field(
        default_factory=TypedAnswerConfig, metadata={"help": "Bounds and option rules."}
    )
    agreement: AgreementConfig = field(
        default_factory=AgreementConfig, metadata={"help": "Stated vs executed answers."}
    )
    ambiguity: AmbiguityCheckConfig = field(
        default_factory=AmbiguityCheckConfig, metadata={"help": "Margins and referents."}
    )
    level: LevelCheckConfig = field(
        default_factory=LevelCheckConfig, metadata={"help": "Difficulty within the level."}
    )
    grounding: GroundingConfig = field(
        default_factory=GroundingConfig, metadata={"help": "Visibility in the solver's frames."}
    )
    dedup: DedupConfig = field(default_factory=DedupConfig, metadata={"help": "Duplicates."})
    blind: BlindConfig = field(default_factory=BlindConfig, metadata={"help": "Blind solver."})


Progress = Callable[[str], None]


class Verifier:
    """Runs the checks over a round's candidates; see the module docstring."""

    def __init__(
        self,
        config: VerifierConfig | None = None,
        sandbox: Sandbox | None = None,
        solver: SolverBackend | None = None,
        registry: Mapping[str, type[Check]] | None = None,
    ) -> None:
        self.config = config or VerifierConfig()
        self.sandbox = sandbox
        self.solver = solver
        registry = dict(CHECKS if registry is None else registry)
        unknown = [name for name in self.config.checks if name not in registry]
        if unknown:
            raise UserError(
                f"unknown verifier check(s) {', '.join(unknown)}; known: {', '.join(registry)}"
            )
        self.checks: list[Check] = [
            registry[name](getattr(self.config, name, None)) for name in self.config.checks
        ]

    def verify(
        self,
        candidates: Iterable[Any],
        scenes: Mapping[str, Any],
        *,
        iteration: int = 0,
        on_progress: Progress | None = None,
    ) -> VerificationReport:
        """Verify proposals, executed samples or raw dicts (any mix); never raises for bad input.

        `scenes` maps scene id to a `Scene` or its JSON dict. Proposals are executed first
        (this needs the sandbox); samples keep their first run's result. The report holds
        every sample in input order.
        """
        ctx = CheckContext(
            scenes=scenes,
            sandbox=self.sandbox,
            solver=self.solver,
            limits=self.config.limits,
            iteration=iteration,
        )
        samples, audits = self._intake(list(candidates), ctx, on_progress)
        notes: list[str] = []
        for check in self.checks:
            if on_progress is not None:
                on_progress(check.name)
            pending = [i for i, s in enumerate(samples) if s.verdict == "pending"]
            skipped = check.skip_reason(ctx)
            if skipped:
                notes.append(f"{check.name}: {skipped}")
                continue
            if not pending:
                continue
            findings = check.run([samples[i] for i in pending], ctx)
            if len(findings) != len(pending):
                raise RuntimeError(
                    f"check {check.name!r} returned {len(findings)} findings for "
                    f"{len(pending)} samples; a check must return one per sample"
                )
            for i, finding in zip(pending, findings, strict=True):
                if finding is not None:
                    samples[i] = _apply(samples[i], audits[i], check.name, finding)
        for i, sample in enumerate(samples):
            if sample.verdict == "pending":
                note = "; ".join(audits[i].notes) or None
                samples[i] = sample.model_copy(update={"verdict": "accepted", "reason": note})
        return VerificationReport(
            samples=samples,
            audits=audits,
            checks=[c.name for c in self.checks],
            notes=notes,
        )

    def _intake(
        self, candidates: list[Any], ctx: CheckContext, on_progress: Progress | None
    ) -> tuple[list[Sample], list[Audit]]:
        """Parse every candidate; run the first execution for proposals; audit the outcome."""
        admitted = [admit(c, self.config.intake, ctx.iteration) for c in candidates]
        to_run = [i for i, item in enumerate(admitted) if _needs_run(item)]
        if to_run:
            if self.sandbox is None:
                raise UserError(
                    f"{len(to_run)} candidate(s) have not been executed yet and the verifier "
                    "has no sandbox; pass one (make_sandbox('local')) or give executed samples"
                )
            if on_progress is not None:
                on_progress("execution")
            proposals = [_proposal_of(admitted[i]) for i in to_run]
            executed = execute(
                proposals, ctx.scenes, self.sandbox, config=ctx.limits, iteration=ctx.iteration
            )
            for i, sample in zip(to_run, executed, strict=True):
                admitted[i] = sample
        samples: list[Sample] = []
        audits: list[Audit] = []
        for item in admitted:
            assert isinstance(item, Sample)
            sample = (
                item
                if item.verdict != "accepted"
                else item.model_copy(update={"verdict": "pending", "reason": None})
            )
            audit = Audit(sample_id=sample.sample_id)
            if sample.verdict == "rejected":
                reason = sample.reason or "unknown"
                audit.check = check_of(reason)
                audit.reason = reason
                audit.detail = sample.execution_error or ""
            samples.append(sample)
            audits.append(audit)
        return samples, audits


def _needs_run(item: Proposal | Sample) -> bool:
    if isinstance(item, Proposal):
        return True
    return item.verdict != "rejected" and item.ground_truth is None


def _proposal_of(item: Proposal | Sample) -> Proposal:
    return item if isinstance(item, Proposal) else item.proposal


def _apply(sample: Sample, audit: Audit, check: str, finding: Finding) -> Sample:
    """Record a finding: a rejection changes the sample's verdict, a note only the audit."""
    if finding.reason is None:
        audit.notes.append(f"{check}: {finding.detail}")
        return sample
    audit.check = check
    audit.reason = finding.reason.value
    audit.detail = finding.detail
    return sample.model_copy(update={"verdict": "rejected", "reason": finding.reason.value})


def verify(
    candidates: Iterable[Any],
    scenes: Mapping[str, Any],
    sandbox: Sandbox | None = None,
    solver: SolverBackend | None = None,
    config: VerifierConfig | None = None,
    *,
    iteration: int = 0,
) -> VerificationReport:
    """One-call form of `Verifier(config, sandbox, solver).verify(candidates, scenes)`."""
    return Verifier(config, sandbox, solver).verify(candidates, scenes, iteration=iteration)
