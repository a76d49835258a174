from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import pytest

from agents.curriculum import DifficultyFeedback
from agents.sample_io import read_samples
from common.errors import UserError
from graphs.build import build_graph, open_checkpointer, run_config
from graphs.config import load_config
from graphs.planning import plan_propose_jobs
from graphs.runtime import LoopRuntime, check_settings
from graphs.store import RunStore
from graphs.summary import dump_history

_spec = importlib.util.spec_from_file_location(
    "loop_settings", Path(__file__).with_name("loop_settings.py")
)
loop_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loop_settings)
TINY_LOOP = loop_settings.TINY_LOOP


def test_propose_jobs_deal_whole_question_types_deterministically() -> None:
    quotas = {("a", 1): 7, ("a", 2): 1, ("b", 2): 2, ("c", 3): 0, ("d", 1): 3}
    jobs = plan_propose_jobs(quotas, iteration=1, width=2)
    assert jobs == plan_propose_jobs(dict(reversed(quotas.items())), iteration=1, width=2)
    assert [job["quotas"] for job in jobs] == [
        [("a", 1, 7), ("a", 2, 1)],  # the biggest type first, then the least-loaded job
        [("b", 2, 2), ("d", 1, 3)],
    ]
    assert all(job["scene_ids"] is None and job["iteration"] == 1 for job in jobs)
    assert len(plan_propose_jobs(quotas, iteration=1, width=9)) == 3  # one per type at most
    assert [job["job"] for job in plan_propose_jobs(quotas, 0, 1)] == ["job-00"]


def test_graph_reads_top_to_bottom() -> None:
    graph = build_graph(load_config(), run_dir="unused").get_graph()
    edges = {(e.source, e.target) for e in graph.edges}
    chain = [
        "__start__",
        "prepare",
        "plan",
        "propose",
        "execute_verify",
        "score",
        "select",
        "train",
        "evaluate",
        "feedback",
    ]
    for source, target in itertools.pairwise(chain):
        assert (source, target) in edges
    assert ("feedback", "plan") in edges and ("feedback", "__end__") in edges


def test_bad_settings_are_reported_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"solver\.settings"):
        check_settings(load_config(overrides=["solver.settings.nmu_frames=3"]))
    with pytest.raises(UserError, match=r"training\.settings"):
        check_settings(load_config(overrides=["training.settings.lr=3"]))
    with pytest.raises(UserError, match=r"proposer\.tasks"):
        check_settings(load_config(overrides=["proposer.tasks=[no_such_task]"]))
    with pytest.raises(UserError, match="held-out"):
        check_settings(load_config(overrides=["scenes.seed=1000000"]))


@pytest.mark.slow
def test_the_loop_runs_end_to_end_and_resumes_idempotently(tmp_path: Path) -> None:
    cfg = load_config(overrides=TINY_LOOP)
    check_settings(cfg)
    store = RunStore(tmp_path / "run")
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            state = graph.invoke({}, run_config(cfg))
            # invoking again on a finished thread changes nothing
            saved = graph.get_state(run_config(cfg))
            assert not saved.next
    finally:
        runtime.close()

    assert state["iteration"] == 2
    assert state["stop_reason"].startswith("iteration budget")
    assert [h.iteration for h in state["history"]] == [-1, 0, 1]
    assert state["history"][-1].stop_reason == state["stop_reason"]
    assert state["history"][-1].thresholds == runtime.thresholds
    assert store.read_metrics() == dump_history(state["history"])
    # the checkpointer gives the typed state back (its models are on the allowlist)
    assert saved.values["history"] == state["history"]
    assert isinstance(saved.values["feedback"], DifficultyFeedback)
    for iteration in (0, 1):
        samples = read_samples(store.samples_path(iteration))
        assert samples, "every candidate is kept"
        assert {s.verdict for s in samples} <= {"accepted", "rejected"}
        assert all(s.reason for s in samples if s.verdict == "rejected")
        scored = read_samples(store.scored_path(iteration))
        assert len(scored) == sum(s.verdict == "accepted" for s in samples)
        assert all(0.0 <= s.confidence <= 1.0 for s in scored)
        assert store.eval_result_path(iteration).exists()
    train_1 = store.read_json(store.train_result_path(1))
    train_0 = store.read_json(store.train_result_path(0))
    assert train_1["start_step"] == train_0["global_step"], "the step counter continues"
    assert state["feedback"].arms, "feedback reaches the next round"
    assert state["solver_checkpoint"] == train_1["model_dir"]
    # the starting solver and every checkpoint carry the frames they were scored with
    for model_dir in (
        store.initial_solver_dir,
        Path(train_0["model_dir"]),
        Path(train_1["model_dir"]),
    ):
        assert (model_dir / "frame_settings.json").is_file()
    # the second round's plan was made from the first round's feedback
    plan_1 = store.read_json(store.iteration_dir(1) / "plan.json")
    assert sum(n for _, _, n in plan_1["quotas"]) == cfg.proposer.per_iteration


def test_static_plan_asks_for_other_arms_each_round(tmp_path: Path) -> None:
    """With fewer slots than arms, the static plan's tie-breaks follow the round."""
    from graphs import nodes

    cfg = load_config(overrides=["loop.selection=static", "proposer.per_iteration=6"])
    runtime = LoopRuntime(config=cfg, store=RunStore(tmp_path / "run"), quiet=True)
    asked = []
    for iteration in range(4):
        state = {"iteration": iteration, "scene_ids": ["s0", "s1"], "feedback": None}
        tasks = nodes.plan(state, runtime)["plan"]
        asked.append(frozenset((t, lvl) for task in tasks for t, lvl, n in task["quotas"] if n))
    assert all(len(arms) == 6 for arms in asked)
    assert len(set(asked)) == 4, "every round asks for its own arms"
