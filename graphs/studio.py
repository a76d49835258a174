"""The loop graph for `langgraph dev` / LangGraph Studio (see langgraph.json).

Studio brings its own persistence, so this graph is compiled without a checkpointer.
Choose the preset and run directory with OUROBOROS_PRESET and OUROBOROS_RUN_DIR.
"""

from __future__ import annotations

import os

from graphs.build import build_graph
from graphs.config import load_config

graph = build_graph(
    load_config(os.environ.get("OUROBOROS_PRESET", "cpu-tiny")),
    run_dir=os.environ.get("OUROBOROS_RUN_DIR", "runs/studio"),
)
