"""The iteration summary: older runs' dict history and checkpoints still load, typed."""

from __future__ import annotations

import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
import yaml
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from agents.bands import TaskTally
from agents.curriculum import DifficultyFeedback
from common.errors import UserError
from graphs.build import open_checkpointer
from graphs.report.data import load_run
from graphs.state import LoopState, difficulty_of, history_of
from graphs.store import RunStore
from graphs.summary import (
    HeldOutSummary,
    IterationSummary,
    dump_history,
    load_history,
    read_history,
)

HELDOUT = {"overall": 0.25, "vsibench_overall": 0.2, "tasks": {"object_counting": 0.2}}
ARM = {
    "question_type": "object_counting",
    "level": 4,
    "count": 3,
    "mean_confidence": 0.5,
    "mean_learnability": 0.25,
    "easy": 0.0,
    "frontier": 1.0,
    "hard": 0.0,
    "requested": 4.0,
    "made": 3.0,
}
#: An entry exactly as graphs.nodes wrote it before IterationSummary: band keys only when
#: counted, no stop_reason.
OLD_ENTRY: dict[str, Any] = {
    "iteration": 0,
    "proposed": 5,
    "accepted": 3,
    "trained_on": 3,
    "reasons": {"ambiguous": 2},
    "tasks": {
        "object_counting": {"proposed": 5, "accepted": 3, "frontier": 3, "confidence_sum": 1.5}
    },
    "arms": [ARM],
    "train_loss": [2.0, 1.5],
    "global_step": 2,
    "heldout": HELDOUT,
    "quotas": [["object_counting", 4, 4, 3]],
    "quota_shift": None,
    "signal": "token_confidence",
}
OLD_BASELINE: dict[str, Any] = {"iteration": -1, "heldout": HELDOUT}


def test_todays_dict_entries_validate_and_write_back_unchanged() -> None:
    baseline, entry = load_history([OLD_BASELINE, OLD_ENTRY])
    assert baseline.is_baseline and baseline.heldout == HeldOutSummary(**HELDOUT)
    assert baseline.proposed == 0 and baseline.tasks == {}
    counting = entry.tasks["object_counting"]
    assert isinstance(counting, TaskTally)
    assert (counting.scored, counting.hard, counting.mean_confidence) == (3, 0, 0.5)
    assert entry.arms[0].arm == ("object_counting", 4)
    assert entry.quotas == [("object_counting", 4, 4, 3)] and entry.stop_reason is None
    old = [OLD_BASELINE, OLD_ENTRY]
    assert all(is_written_back(o, n) for o, n in zip(old, dump_history(old), strict=True))
    assert dump_history([OLD_ENTRY])[0]["tasks"]["object_counting"]["easy"] == 0
    extra = {**OLD_ENTRY, "written_by": "a later version"}  # unknown keys are kept, not lost
    assert dump_history([extra])[0]["written_by"] == "a later version"
    assert load_history(dump_history([OLD_ENTRY])) == load_history([OLD_ENTRY])


def is_written_back(old: Any, new: Any) -> bool:
    """`new` holds every key and value of `old` (it may add keys with their defaults)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(is_written_back(v, new.get(k)) for k, v in old.items())
    return old == new


def test_a_report_fixture_in_the_old_format_reads_as_summaries(report_run_dir: Path) -> None:
    """The report fixture writes metrics.json in the old dict format (conftest)."""
    store = RunStore(report_run_dir)
    raw = store.read_metrics()
    history = read_history(store)
    assert [h.iteration for h in history] == [e["iteration"] for e in raw]
    assert all(h.heldout is not None for h in history)
    for summary, entry in zip(history[1:], raw[1:], strict=True):
        assert summary.tasks.keys() == entry["tasks"].keys()
        for name, row in summary.tasks.items():
            assert row.scored == sum(entry["tasks"][name].get(b, 0) for b in row.bands)
    assert all(is_written_back(e, d) for e, d in zip(raw, dump_history(history), strict=True))


class OldLoopState(TypedDict, total=False):
    """The state's shape before the summary was typed (what older checkpoints hold)."""

    iteration: int
    feedback: dict[str, Any] | None
    history: Annotated[list[dict[str, Any]], operator.add]


def test_an_old_checkpoint_with_dict_state_resumes_with_typed_state(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    store.root.mkdir(parents=True)
    feedback = DifficultyFeedback.model_validate({"arms": [ARM]}).model_dump(mode="json")
    config = {"configurable": {"thread_id": "old-run"}}

    old = StateGraph(OldLoopState)
    old.add_node("feedback", lambda state: {"iteration": 1, "feedback": feedback,
                                            "history": [OLD_ENTRY]})  # fmt: skip
    old.add_edge(START, "feedback")
    old.add_edge("feedback", END)
    conn = sqlite3.connect(str(store.checkpoint_db), check_same_thread=False)
    try:
        old.compile(checkpointer=SqliteSaver(conn)).invoke({"history": [OLD_BASELINE]}, config)
    finally:
        conn.close()

    seen: dict[str, Any] = {}

    def resume(state: LoopState) -> dict[str, Any]:
        seen["difficulty"] = difficulty_of(state)
        seen["history"] = history_of(state)
        entry = IterationSummary(iteration=state["iteration"], proposed=1, stop_reason="done")
        return {"history": [entry], "iteration": state["iteration"] + 1}

    new = StateGraph(LoopState)
    new.add_node("resume", resume)
    new.add_edge(START, "resume")
    new.add_edge("resume", END)
    with open_checkpointer(store) as saver:
        graph = new.compile(checkpointer=saver)
        state = graph.invoke({}, config)
        saved = graph.get_state(config).values

    assert seen["difficulty"].by_arm()[("object_counting", 4)].made == 3
    assert [h.iteration for h in seen["history"]] == [-1, 0]
    assert [h.iteration for h in state["history"]] == [-1, 0, 1]
    assert all(isinstance(h, IterationSummary) for h in saved["history"])
    assert saved["history"][:2] == load_history([OLD_BASELINE, OLD_ENTRY])
    assert saved["history"][-1].stop_reason == "done"


def test_an_edited_history_or_band_edge_is_a_user_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    store.root.mkdir()
    store.write_metrics([OLD_BASELINE, {**OLD_ENTRY, "proposed": "many"}])
    with pytest.raises(UserError, match=r"metrics\.json: entry 1 .*field 'proposed'"):
        read_history(store)
    store.write_metrics([OLD_BASELINE])
    store.config_path.write_text(yaml.safe_dump({"loop": {"easy": 2}}), encoding="utf-8")
    with pytest.raises(UserError, match=r"config\.yaml: loop field 'easy'"):
        load_run(store.root)
