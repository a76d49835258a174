"""The seed range reserved for held-out evaluation scenes (ProcSpatial).

A benchmark built from procedural scenes only measures generalisation if the loop never
trains on those scenes. Procedural scene `k` is fully determined by its seed, so keeping
the seeds apart is enough: ProcSpatial draws from `HELD_OUT_SEED_START` upwards and the
training loop calls `check_training_seeds` before it generates anything. This module
imports nothing heavy so the run configuration can call it while validating.
"""

from __future__ import annotations

from common.errors import UserError

#: Procedural seeds at or above this value are reserved for held-out benchmarks.
HELD_OUT_SEED_START = 1_000_000


def is_held_out_seed(seed: int) -> bool:
    """Whether `seed` lies in the reserved held-out range."""
    return seed >= HELD_OUT_SEED_START


def check_training_seeds(first_seed: int, count: int, what: str = "scenes.seed") -> None:
    """Refuse training scene seeds `first_seed .. first_seed + count - 1` that reach the
    held-out range, so no training scene can be a benchmark scene."""
    if count < 1:
        raise UserError(f"{what}: need at least one scene, got a count of {count}")
    last_seed = first_seed + count - 1
    if is_held_out_seed(last_seed):
        raise UserError(
            f"{what}: training scenes would use seeds {first_seed}..{last_seed}, but seeds from "
            f"{HELD_OUT_SEED_START:,} up are reserved for the held-out ProcSpatial benchmark; "
            f"choose a first seed with first seed + count <= {HELD_OUT_SEED_START:,}"
        )


def check_held_out_seeds(first_seed: int, count: int, what: str = "--seed-base") -> None:
    """Refuse benchmark scene seeds outside the reserved range (the mirror of the above)."""
    if count < 1:
        raise UserError(f"{what}: need at least one scene, got a count of {count}")
    if not is_held_out_seed(first_seed):
        raise UserError(
            f"{what}: {first_seed} is below {HELD_OUT_SEED_START:,}; held-out scenes must use "
            "seeds from the reserved range so training never sees them"
        )
