"""The procedural seed range reserved for perception pretraining.

Pretraining reads dense labels of whole rooms, so those rooms must be neither the loop's
scene pool (seeds from `scenes.seed`, 0 in every preset), the perception warm-up's rooms
(`WarmupConfig.seed`, 500,000 up) nor a held-out benchmark's (1,000,000 up). A room is a
pure function of its seed, so keeping seeds apart keeps the rooms apart.
"""

from __future__ import annotations

from common.errors import UserError

#: First seed of the range only perception pretraining may use.
PERCEPTION_SEED_START = 900_000
#: Seeds in the range: 900,000 .. 949,999.
PERCEPTION_SEED_COUNT = 50_000


def perception_seed_range() -> range:
    return range(PERCEPTION_SEED_START, PERCEPTION_SEED_START + PERCEPTION_SEED_COUNT)


def check_perception_seeds(first_seed: int, count: int) -> None:
    """Refuse pretraining rooms outside the reserved range (they could be loop or test rooms)."""
    reserved = perception_seed_range()
    last_seed = first_seed + count - 1
    if count < 1 or first_seed not in reserved or last_seed not in reserved:
        raise UserError(
            f"perception pretraining: seeds {first_seed}..{last_seed} are not inside the reserved "
            f"range {reserved.start:,}..{reserved.stop - 1:,}; pick --seed inside it and a count "
            "that fits"
        )
