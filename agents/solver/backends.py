"""Which engine answers: `load_solver` builds the backend `solver.backend` names.

Kept apart from `solver.py` so the engines import the transformers solver one way only:
the ViLaSR tool solver builds on `Solver`, and nothing in `solver.py` needs to know it.
"""

from __future__ import annotations

from agents.solver.config import SolverConfig
from agents.solver.solver import Solver, SolverBackend


def load_solver(config: SolverConfig) -> SolverBackend:
    """The configured backend: transformers (default, any device), vLLM (GPU) or ViLaSR tools."""
    if config.backend == "vilasr":
        from agents.solver.tool_solver import ToolSolver

        return ToolSolver(config)
    if config.backend == "vllm":
        from agents.solver.vllm_backend import VLLMSolver  # imports vllm: GPU machines only

        return VLLMSolver(config)
    return Solver(config)
