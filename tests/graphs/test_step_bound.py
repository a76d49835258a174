"""A recursion limit too tight for the next iteration ends the loop with a stop_reason.

The `feedback` node reads LangGraph's `RemainingSteps` managed value; managed values are
computed per step and never checkpointed, so checkpoints look as they did before it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from graphs.build import build_graph, open_checkpointer, run_config
from graphs.config import load_config
from graphs.runtime import LoopRuntime
from graphs.state import STEPS_PER_ITERATION
from graphs.store import RunStore

_spec = importlib.util.spec_from_file_location(
    "loop_settings", Path(__file__).with_name("loop_settings.py")
)
loop_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loop_settings)

#: The cheapest loop that runs every node: one small round, one training step, no held-out.
CHEAP_LOOP = [
    *loop_settings.TINY_LOOP_NO_EVALUATION,
    "loop.iterations=3",
    "proposer.per_iteration=6",
    "training.settings.steps_per_iteration=1",
    "verifier.blind_check=false",
]


@pytest.mark.slow
def test_a_tight_recursion_limit_stops_after_the_last_iteration_that_fits(
    tmp_path: Path,
) -> None:
    cfg = load_config(overrides=CHEAP_LOOP)
    store = RunStore(tmp_path / "run")
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    # prepare + one iteration + a few steps: too few for the second of three iterations
    limit = {**run_config(cfg), "recursion_limit": 1 + STEPS_PER_ITERATION + 3}
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            state = graph.invoke({}, limit)
            saved = graph.get_state(limit)
            stored = saver.get_tuple(limit).checkpoint["channel_values"]
    finally:
        runtime.close()
    assert state["iteration"] == 1
    assert state["stop_reason"].startswith("step bound reached")
    assert [h.iteration for h in state["history"]] == [-1, 0]
    assert state["history"][-1].stop_reason == state["stop_reason"]
    assert not saved.next, "the run ended cleanly, nothing is left to resume"
    assert "remaining_steps" not in stored, "a managed value is never checkpointed"
    assert "remaining_steps" not in saved.values
