"""Training the solver with TRL: datasets from samples, SFT and GRPO across loop iterations.

Public names load lazily (``from training import SolverTrainer``), so importing the
package does not import TRL.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    "SFTSettings": "training.config",
    "GRPOSettings": "training.config",
    "SolverTrainer": "training.iterations",
    "TrainResult": "training.checkpoints",
    "TwoStageRecipe": "training.recipes",
    "ActialRecipe": "training.recipes",
    "RECIPES": "training.recipes",
    "build_recipe": "training.recipes",
    "ColdStartConfig": "training.coldstart",
    "REWARDS": "training.rewards",
    "build_sft_dataset": "training.data",
    "build_packed_sft_dataset": "training.data",
    "build_grpo_dataset": "training.data",
    "write_vsibench_rows": "training.exports",
    "write_sharegpt": "training.exports",
    "read_sharegpt": "training.exports",
    "pack_questions": "training.packing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
