"""A scored sample of a made-up task, for tests of bands, tallies and the curriculum."""

from __future__ import annotations

from agents.records import Proposal, Sample


def scored_sample(
    task: str,
    i: int,
    *,
    verdict: str = "accepted",
    confidence: float | None = None,
    learnability: float | None = None,
) -> Sample:
    """The i-th sample of `task` (distinct questions), with its verdict and signal values."""
    proposal = Proposal(
        scene_id="s",
        question_type=task,
        question=f"q{i} {task}",
        answer_kind="numeric",
        program="def solve(scene):\n    return 1\n",
        level=1,
    )
    reason = "unsound" if verdict == "rejected" else None
    return Sample.from_proposal(proposal).model_copy(
        update={
            "verdict": verdict,
            "reason": reason,
            "confidence": confidence,
            "learnability": learnability,
        }
    )
