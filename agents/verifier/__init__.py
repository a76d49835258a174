"""The verifier: only sound, grounded, non-trivial samples get through (docs/verifier.md).

`Verifier(config, sandbox, solver=None).verify(candidates, scenes)` takes proposals,
executed samples or raw dicts and returns a `VerificationReport` in which every candidate
is `accepted` or `rejected` with a `RejectReason`.
"""

from __future__ import annotations

from agents.verifier.base import Check, CheckContext, Finding, SampleCheck
from agents.verifier.pipeline import CHECKS, Verifier, VerifierConfig, verify
from agents.verifier.reasons import RejectReason
from agents.verifier.report import Audit, VerificationReport

__all__ = [
    "CHECKS",
    "Audit",
    "Check",
    "CheckContext",
    "Finding",
    "RejectReason",
    "SampleCheck",
    "VerificationReport",
    "Verifier",
    "VerifierConfig",
    "verify",
]
