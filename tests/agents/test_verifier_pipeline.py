"""The verifier end to end: every candidate decided with a reason, kept, counted, stored."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from agents.curriculum import make_policy
from agents.execution import ExecutionReason, execute
from agents.proposers import ProgrammaticConfig, ProgrammaticProposer, plan_and_propose
from agents.records import Proposal
from agents.sample_io import read_samples, write_samples
from agents.tasks.demo_scene import demo_scene
from agents.verifier import CHECKS, RejectReason, Verifier, VerifierConfig
from agents.verifier.reasons import check_of
from common.errors import UserError
from scenes.schema import Scene
from tests.agents.verifier_helpers import outcomes, proposal
from tools.sandbox import make_sandbox

REASONS = {r.value for r in RejectReason}


@pytest.fixture(scope="module")
def scene() -> Scene:
    return demo_scene()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with make_sandbox("local", workers=2) as runner:
        yield runner


@pytest.fixture(scope="module")
def proposals(scene: Scene) -> list[Proposal]:
    proposer = ProgrammaticProposer(ProgrammaticConfig(seed=2))
    return plan_and_propose(proposer, [scene], 60, make_policy("uniform", seed=2), None).proposals


def _mixed(proposals: list[Proposal]) -> list[Any]:
    """Programmatic proposals plus one of each kind of trouble."""
    # a wide range, so the perturbed second run cannot draw the same number by chance
    random_program = "import random\ndef solve(scene):\n    return random.randint(2, 10**9)\n"
    return [
        *proposals,
        {"scene_id": "demo-room", "question": 7},
        proposal("How many random things?", program=random_program),
        proposal("How far is the chair from the bed?", question_type="object_abs_distance"),
        proposals[0],  # an exact repeat
        proposals[1].model_copy(update={"stated_answer": "not what the program says"}),
    ]


def test_every_candidate_ends_accepted_or_rejected_with_a_reason(
    scene: Scene, sandbox: Any, proposals: list[Proposal], tmp_path: Any
) -> None:
    candidates = _mixed(proposals)
    report = Verifier(None, sandbox).verify(candidates, {scene.id: scene})
    assert len(report.samples) == len(report.audits) == len(candidates)
    for sample, audit in zip(report.samples, report.audits, strict=True):
        assert sample.verdict in ("accepted", "rejected")
        assert audit.sample_id == sample.sample_id
        if sample.verdict == "rejected":
            assert sample.reason in REASONS and audit.reason == sample.reason and audit.detail
    assert outcomes(report)[-5:] == [
        "malformed",
        "nondeterministic",
        "ambiguous_referent",
        "duplicate",
        "inconsistent",
    ]
    assert len(report.accepted) >= 40
    assert report.notes == ["blind: no solver given: blind check skipped"]
    removed = report.removed_by_check()
    assert list(removed)[:2] == ["intake", "execution"]
    assert sum(removed.values()) == len(report.rejected)

    path = write_samples(report.samples, tmp_path / "verified.parquet")
    stored = read_samples(path)
    assert [(s.verdict, s.reason) for s in stored] == [
        (s.verdict, s.reason) for s in report.samples
    ]
    assert stored[-4].proposal.program == candidates[-4].program  # rejected, kept for audit


def test_tables_count_reasons_per_task_and_proposer(
    scene: Scene, sandbox: Any, proposals: list[Proposal]
) -> None:
    report = Verifier(None, sandbox).verify(_mixed(proposals), {scene.id: scene})
    console = Console(file=io.StringIO(), width=250)
    for table in (report.reason_table(), report.reason_table("proposer_id"), report.check_table()):
        console.print(table)
    printed = console.file.getvalue()
    for text in ("object_abs_distance", "programmatic", "nondeterministic", "blind (skipped)"):
        assert text in printed
    by_task = report.reasons_by("question_type")
    assert by_task["object_abs_distance"]["ambiguous_referent"] == 1
    assert sum(sum(c.values()) for c in by_task.values()) == len(report.samples)
    assert "| check | removed |" in report.markdown()


def test_executed_samples_verify_like_proposals(
    scene: Scene, sandbox: Any, proposals: list[Proposal]
) -> None:
    scenes = {scene.id: scene}
    direct = Verifier(None, sandbox).verify(proposals, scenes)
    executed = execute(proposals, scenes, sandbox)
    later = Verifier(None, sandbox).verify(executed, scenes)
    assert outcomes(later) == outcomes(direct)
    rows = [s.model_dump() for s in executed]  # plain dicts of samples are accepted too
    assert outcomes(Verifier(None, sandbox).verify(rows, scenes)) == outcomes(direct)


def test_missing_sandbox_and_unknown_checks_are_explained(
    scene: Scene, proposals: list[Proposal]
) -> None:
    with pytest.raises(UserError, match="not been executed yet"):
        Verifier().verify(proposals[:2], {scene.id: scene})
    with pytest.raises(UserError, match="unknown verifier check"):
        Verifier(VerifierConfig(checks=["execution", "vibes"]))


def test_reasons_cover_execution_and_every_check_is_registered() -> None:
    assert {r.value for r in ExecutionReason} <= REASONS
    owners = {check_of(r.value) for r in RejectReason}
    assert owners == {"intake", *CHECKS, "unknown"}  # unknown: check_error only
    assert list(CHECKS) == VerifierConfig().checks
    for name, check in CHECKS.items():
        assert check.name == name
        assert isinstance(getattr(VerifierConfig(), name), check.config_class)
