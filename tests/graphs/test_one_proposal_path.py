"""The loop's plan/propose nodes and `ouroboros propose` share one proposal path."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
from agents.records import Proposal
from agents.sample_io import read_samples
from graphs import nodes
from graphs.cli import main
from graphs.config import load_config
from graphs.runtime import LoopRuntime
from graphs.store import RunStore
from scenes.procedural import generate_scenes

SEED, PROPOSALS, JOBS, FRAMES, ATTEMPTS = 5, 30, 2, 3, 3


def what_was_asked(proposal: Proposal) -> tuple[Any, ...]:
    return (
        proposal.scene_id,
        proposal.question_type,
        proposal.level,
        proposal.question,
        proposal.options,
        proposal.program,
        proposal.frame_indices,
    )


@pytest.fixture
def runtime(tmp_path: Path) -> LoopRuntime:
    cfg = load_config(
        overrides=[
            f"seed={SEED}",
            f"proposer.per_iteration={PROPOSALS}",
            f"proposer.max_concurrency={JOBS}",
            f"proposer.settings.scene_attempts={ATTEMPTS}",
            f"solver.settings.num_frames={FRAMES}",
            "loop.policy=yield_bandit",
            "sandbox.workers=1",
        ]
    )
    store = RunStore(tmp_path / "run")
    generate_scenes(
        num=2, seed=0, out=store.scenes_dir, frames=8, width=64, height=48, progress=False
    )
    rt = LoopRuntime(config=cfg, store=store, quiet=True)
    yield rt
    rt.close()


def test_the_loop_and_the_cli_make_the_same_proposals(
    runtime: LoopRuntime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state: dict[str, Any] = {"iteration": 0, "scene_ids": sorted(runtime.scenes())}
    jobs = nodes.plan(state, runtime)["plan"]
    assert len(jobs) == JOBS and all(job["scene_ids"] is None for job in jobs)
    for job in jobs:
        nodes.propose(job, runtime)
    from_loop = runtime.store.read_proposals(0)

    out = tmp_path / "cli.parquet"
    code = main(
        ["propose", "--scenes", str(runtime.store.scenes_dir), "--out", str(out),
         "--num", str(PROPOSALS), "--seed", str(SEED), "--jobs", str(JOBS),
         "--frames", str(FRAMES), "--setting", f"scene_attempts={ATTEMPTS}",
         "--policy", "yield_bandit", "--no-verify"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().out
    from_cli = [sample.proposal for sample in read_samples(out)]

    assert len(from_loop) >= PROPOSALS - 2  # refill keeps the round near its size
    assert {p.scene_id for p in from_loop} == set(runtime.scenes())  # every job sees all scenes
    shown = [len(p.frame_indices or []) for p in from_loop]  # viewpoint tasks pick their own
    assert shown.count(FRAMES) > len(shown) / 2 and max(shown) <= FRAMES
    assert [what_was_asked(p) for p in from_loop] == [what_was_asked(p) for p in from_cli]


def test_a_branch_planned_before_propose_jobs_resumes_as_it_was(runtime: LoopRuntime) -> None:
    """A checkpoint saved mid-round by an older version holds one-scene branches."""
    scene_id = sorted(runtime.scenes())[0]
    quotas = {arm: 1 for arm in ProgrammaticProposer().arms()[::3]}
    old_branch = {
        "iteration": 0,
        "scene_id": scene_id,
        "quotas": [(t, lvl, n) for (t, lvl), n in quotas.items()],
    }
    update = nodes.propose(old_branch, runtime)  # type: ignore[arg-type]
    written = runtime.store.read_proposals(0)
    assert update == {"proposed": {"0": {scene_id: len(written)}}} and len(written) > 5
    assert runtime.store.proposals_path(0, scene_id).exists()  # the file it had before
    seed = random.Random(f"{SEED}:0:{scene_id}").randrange(2**31)  # the old per-scene seed
    before = ProgrammaticProposer(
        ProgrammaticConfig(seed=seed, num_solver_frames=FRAMES, scene_attempts=ATTEMPTS)
    )
    expected = before.propose([runtime.scenes()[scene_id]], quotas)
    assert [what_was_asked(p) for p in written] == [what_was_asked(p) for p in expected.proposals]
