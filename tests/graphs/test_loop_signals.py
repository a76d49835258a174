"""The loop's scoring step with a non-default signal, and the quota record it leaves."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agents.sample_io import read_samples
from common.errors import UserError
from graphs.build import build_graph, open_checkpointer, run_config
from graphs.config import load_config
from graphs.runtime import LoopRuntime, check_settings
from graphs.signal_step import quota_record
from graphs.store import RunStore

_spec = importlib.util.spec_from_file_location(
    "loop_settings", Path(__file__).with_name("loop_settings.py")
)
loop_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loop_settings)


def test_quota_record_measures_the_shift_of_shares() -> None:
    first = quota_record({("a", 1): 8, ("b", 1): 8}, {("a", 1): 8}, None)
    assert first == {"quotas": [["a", 1, 8, 8], ["b", 1, 8, 0]], "quota_shift": None}
    moved = quota_record({("a", 1): 16}, {}, {("a", 1): 8, ("b", 1): 8})
    assert moved["quota_shift"] == pytest.approx(0.5)
    same = quota_record({("a", 1): 4, ("b", 1): 4}, {}, {("a", 1): 8, ("b", 1): 8})
    assert same["quota_shift"] == pytest.approx(0.0)


def test_unknown_signal_is_reported_before_any_work() -> None:
    with pytest.raises(UserError, match=r"loop\.signal"):
        check_settings(load_config(overrides=["loop.signal=entropy"]))
    with pytest.raises(UserError, match="policy"):
        check_settings(load_config(overrides=["loop.policy=greedy"]))


@pytest.mark.slow
def test_learning_progress_loop_keeps_a_probe_and_records_quotas(tmp_path: Path) -> None:
    overrides = [
        *loop_settings.TINY_LOOP_NO_EVALUATION,
        "proposer.per_iteration=12",
        "training.settings.steps_per_iteration=1",
        "loop.signal=learning_progress",
        "loop.signal_settings.grid_size=5",
        "loop.signal_settings.probe_per_arm=2",
    ]
    cfg = load_config(overrides=overrides)
    check_settings(cfg)
    store = RunStore(tmp_path / "run")
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    try:
        with open_checkpointer(store) as saver:
            state = build_graph(cfg, checkpointer=saver, runtime=runtime).invoke(
                {}, run_config(cfg)
            )
    finally:
        runtime.close()
    probe = read_samples(store.root / "probe.parquet")
    arms = {(s.proposal.question_type, s.proposal.level) for s in probe}
    assert probe and all(
        sum((s.proposal.question_type, s.proposal.level) == arm for s in probe) <= 2 for arm in arms
    )
    means = [store.read_json(store.iteration_dir(i) / "probe.json")["means"] for i in (0, 1)]
    assert {(t, lvl) for t, lvl, _ in means[0]} <= {(t, lvl) for t, lvl, _ in means[1]}
    for iteration in (0, 1):
        scored = read_samples(store.scored_path(iteration))
        assert scored and all(s.learnability is not None for s in scored)
    history = state["history"]
    assert [h.signal for h in history[1:]] == ["learning_progress"] * 2
    assert history[1].quota_shift is None and 0 <= history[2].quota_shift <= 1
    plan = store.read_json(store.iteration_dir(1) / "plan.json")["quotas"]
    assert [list(row[:3]) for row in history[2].quotas] == plan
    accepted = read_samples(store.scored_path(1))
    made = {(t, lvl): m for t, lvl, _, m in history[2].quotas}
    for arm, count in made.items():
        assert count == sum((s.proposal.question_type, s.proposal.level) == arm for s in accepted)
    # arms measured in both rounds steer by |change| of their probe means
    before = {(t, lvl): m for t, lvl, m in means[0]}
    feedback = state["feedback"].by_arm()
    for task, level, mean in means[1]:
        if (task, level) in before and (task, level) in feedback:
            change = abs(mean - before[(task, level)])
            assert feedback[(task, level)].mean_learnability == pytest.approx(change)
