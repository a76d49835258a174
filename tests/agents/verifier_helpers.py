"""Builders shared by the verifier tests: hand-made samples about the demo room, a scripted
solver."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from agents.records import Proposal, Sample
from agents.solver.items import AnswerResult, ConfidenceResult, SolverItem
from agents.verifier import VerificationReport, Verifier, VerifierConfig
from scenes.schema import Scene

DEMO = "demo-room"
COUNT_CHAIRS = "def solve(scene):\n    return scene.count('chair')\n"


def proposal(
    question: str = "How many chair(s) are in this room?",
    *,
    question_type: str = "object_counting",
    options: Sequence[str] = (),
    program: str = COUNT_CHAIRS,
    **fields: Any,
) -> Proposal:
    return Proposal(
        scene_id=fields.pop("scene_id", DEMO),
        question_type=question_type,
        question=question,
        options=list(options),
        answer_kind="multiple_choice" if options else "numeric",
        program=program,
        **fields,
    )


def sample(truth: str, value: Any = None, **kwargs: Any) -> Sample:
    """A pending, executed sample with the given ground truth (as execution would leave it)."""
    made = proposal(**kwargs)
    return Sample.from_proposal(made).model_copy(
        update={"ground_truth": truth, "executed_value": truth if value is None else value}
    )


def only(checks: list[str], **settings: Any) -> VerifierConfig:
    """A config running just `checks`, with some checks' settings replaced."""
    config = VerifierConfig(checks=checks)
    for name, overrides in settings.items():
        setattr(config, name, replace(getattr(config, name), **overrides))
    return config


def run(
    checks: list[str],
    candidates: Sequence[Any],
    scene: Scene,
    sandbox: Any = None,
    solver: Any = None,
    **settings: Any,
) -> VerificationReport:
    verifier = Verifier(only(checks, **settings), sandbox, solver)
    return verifier.verify(candidates, {scene.id: scene})


def outcomes(report: VerificationReport) -> list[str]:
    """'accepted' or the reason, per sample."""
    return ["accepted" if s.verdict == "accepted" else str(s.reason) for s in report.samples]


class ScriptedSolver:
    """A solver whose blind answers are scripted: always right, never right, or always 'A'."""

    def __init__(self, right: bool, always_a: bool = False, strength: float = 0.9) -> None:
        self.right = right
        self.always_a = always_a
        self.strength = strength
        self.calls: list[tuple[str, int, bool]] = []

    def confidence(
        self, items: Sequence[SolverItem], blind: bool = False
    ) -> list[ConfidenceResult]:
        self.calls.append(("confidence", len(items), blind))
        results = []
        for item in items:
            letters = [o.partition(". ")[0] for o in item.options]
            favourite = "A" if self.always_a else item.ground_truth if self.right else None
            if favourite is None:
                probs = {letter: 1 / len(letters) for letter in letters}
            else:
                rest = (1 - self.strength) / max(len(letters) - 1, 1)
                probs = {
                    letter: self.strength if letter == favourite else rest for letter in letters
                }
            truth_p = probs.get(item.ground_truth or "", 0.0)
            results.append(
                ConfidenceResult(
                    sample_id=item.sample_id,
                    confidence=truth_p,
                    mean_log_prob=0.0,
                    token_log_probs=[],
                    letter_probs=probs,
                    blind=blind,
                )
            )
        return results

    def answer(self, items: Sequence[SolverItem], blind: bool = False) -> list[AnswerResult]:
        self.calls.append(("answer", len(items), blind))
        replies = []
        for item in items:
            truth = float(item.ground_truth or 0)
            reply = f"{truth * 1.05:g}" if self.right else f"{truth * 3 + 7:g}"
            replies.append(AnswerResult(sample_id=item.sample_id, reply=reply, answer=reply))
        return replies
