"""The solver: a vision-language model that answers spatial questions and scores confidence.

Public names load lazily (``from agents.solver import Solver``), so importing the records
(``agents.solver.items``) does not import transformers.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    "SolverConfig": "agents.solver.config",
    "SolverItem": "agents.solver.items",
    "AnswerResult": "agents.solver.items",
    "ConfidenceResult": "agents.solver.items",
    "Solver": "agents.solver.solver",
    "SolverBackend": "agents.solver.solver",
    "load_solver": "agents.solver.backends",
    "build_tiny_solver": "agents.solver.tiny",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agents.solver' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
