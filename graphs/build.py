"""`build_graph(config)`: the self-evolving loop as a LangGraph state machine.

    prepare -> plan -> propose (one branch per propose job, via Send) -> execute_verify
            -> score -> select -> train -> evaluate -> feedback -> plan ... or END

Nodes are plain functions of the state (graphs/nodes.py); what they share (settings,
sandbox, scene pool, run store) is bound in here. With a checkpointer (SQLite in the run
directory, see `open_checkpointer`) every finished step is saved, and invoking the graph
again with the same thread id continues from the last one.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from graphs import nodes
from graphs.config import RunConfig
from graphs.runtime import LoopRuntime
from graphs.state import ITERATION_NODES, STATE_MODELS, STEPS_PER_ITERATION, LoopState
from graphs.store import RunStore

THREAD_ID = "loop"
#: Fault injection for the reliability tests: "NODE:ITERATION" makes the process SIGKILL
#: itself right after that node has written its output, before LangGraph checkpoints it.
FAULT_ENV = "OUROBOROS_FAULT_AFTER"


def _node(
    fn: Callable[..., dict[str, Any]], name: str, rt: LoopRuntime
) -> Callable[[Any], dict[str, Any]]:
    """Bind the runtime to a node function (and honour the fault-injection hook)."""
    fault = os.environ.get(FAULT_ENV, "")

    def node(state: Any) -> dict[str, Any]:
        update = fn(state, rt=rt)
        if fault and fault == f"{name}:{state.get('iteration')}":
            os.kill(os.getpid(), signal.SIGKILL)
        return update

    node.__name__ = name
    node.__doc__ = fn.__doc__
    return node


NODES = ("prepare", *ITERATION_NODES)


#: Room beyond the iteration budget: `prepare`, and the first step after a resume.
SPARE_STEPS = 10


def fan_out(state: LoopState) -> list[Send]:
    """One `propose` branch per propose job this round."""
    return [Send("propose", job) for job in state["plan"]]


def keep_going(state: LoopState) -> str:
    return END if state.get("stop_reason") else "plan"


def build_graph(
    config: RunConfig,
    run_dir: str | Path | None = None,
    *,
    checkpointer: Any = None,
    quiet: bool = False,
    runtime: LoopRuntime | None = None,
) -> Any:
    """The compiled loop graph for `config`, writing into `run_dir`."""
    rt = runtime or LoopRuntime(
        config=config, store=RunStore(run_dir or "runs/default"), quiet=quiet
    )
    graph = StateGraph(LoopState)
    for name in NODES:
        graph.add_node(name, _node(getattr(nodes, name), name, rt))

    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "plan")
    graph.add_conditional_edges("plan", fan_out, ["propose"])
    graph.add_edge("propose", "execute_verify")
    graph.add_edge("execute_verify", "score")
    graph.add_edge("score", "select")
    graph.add_edge("select", "train")
    graph.add_edge("train", "evaluate")
    graph.add_edge("evaluate", "feedback")
    graph.add_conditional_edges("feedback", keep_going, ["plan", END])
    return graph.compile(checkpointer=checkpointer, name="ouroboros-loop")


@contextmanager
def open_checkpointer(store: RunStore) -> Iterator[SqliteSaver]:
    """LangGraph's SQLite checkpointer on the run directory's database."""
    store.root.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(store.checkpoint_db), check_same_thread=False)
    try:
        serde = JsonPlusSerializer(allowed_msgpack_modules=STATE_MODELS)  # the state's models
        yield SqliteSaver(conn, serde=serde)
    finally:
        conn.close()


def run_config(config: RunConfig) -> dict[str, Any]:
    """The RunnableConfig for invoking the loop: thread id, fan-out width, recursion room.

    The step bound follows from the graph (`STEPS_PER_ITERATION`) and `loop.iterations`;
    the loop ends by itself (`stop_reason`) before it. Should a caller set a tighter limit,
    the `feedback` node reads LangGraph's `RemainingSteps` and stops after the last
    iteration that fits, with a `stop_reason`, instead of a GraphRecursionError.
    """
    return {
        "configurable": {"thread_id": THREAD_ID},
        "max_concurrency": config.proposer.max_concurrency,
        "recursion_limit": SPARE_STEPS + STEPS_PER_ITERATION * config.loop.iterations,
    }
