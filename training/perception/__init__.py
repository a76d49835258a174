"""Perception pretraining for the tiny solver: a vision tower that sees, from dense labels.

    python -m training.perception --out agents/solver/weights/seeing-tiny

See `docs/solver.md` ("The seeing tiny solver") and `pretrain.py`.
"""

from training.perception.seeds import (
    PERCEPTION_SEED_COUNT,
    PERCEPTION_SEED_START,
    check_perception_seeds,
    perception_seed_range,
)

__all__ = [
    "PERCEPTION_SEED_COUNT",
    "PERCEPTION_SEED_START",
    "check_perception_seeds",
    "perception_seed_range",
]
