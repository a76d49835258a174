"""Splitting a round's quotas over scenes, for the per-scene fan-out of the propose node."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from agents.curriculum import Arm
from graphs.state import ProposeTask


def split_quotas(
    quotas: Mapping[Arm, int], scene_ids: Sequence[str], iteration: int, seed: int
) -> list[ProposeTask]:
    """Each arm's quota spread evenly over scenes; the remainder goes to a seeded rotation.

    Deterministic: the same quotas, scenes, iteration and seed give the same tasks.
    """
    scene_ids = sorted(scene_ids)
    per_scene: dict[str, list[tuple[str, int, int]]] = {scene_id: [] for scene_id in scene_ids}
    for task, level in sorted(quotas):
        n = quotas[(task, level)]
        if n <= 0:
            continue
        base, extra = divmod(n, len(scene_ids))
        start = random.Random(f"{seed}:{iteration}:{task}:{level}").randrange(len(scene_ids))
        for position, scene_id in enumerate(scene_ids):
            share = base + (1 if (position - start) % len(scene_ids) < extra else 0)
            if share:
                per_scene[scene_id].append((task, level, share))
    return [
        ProposeTask(iteration=iteration, scene_id=scene_id, quotas=arms)
        for scene_id, arms in per_scene.items()
        if arms
    ]
