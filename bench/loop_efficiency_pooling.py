"""The pooled experiment's sample pools: accepted samples per (task, level), built once.

`build_pools` runs the programmatic proposer and the verifier (without the blind check,
which would need a solver) over the shared scene pool and records each arm's yield;
`Pools` is one run's view of them: a fixed probe set, each arm's samples in a
seed-fixed order, and slots filled with the arm's yield until its pool runs out.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

Arm = tuple[str, int]


def build_pools(cfg: Any, scenes_dir: Path, per_arm: int, out: Path) -> dict[str, Any]:
    """Accepted samples per (task, level) and each arm's yield; built once, then reused."""
    path = out / "pools.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    from agents.proposers import make_proposer
    from agents.sample_io import write_samples
    from agents.verifier import Verifier
    from common.io import atomic_write_text
    from graphs.runtime import proposer_settings, verifier_settings
    from scenes.schema import Scene, list_scene_dirs
    from tools.sandbox import make_sandbox

    scenes = {s.id: s for s in (Scene.load(d) for d in list_scene_dirs(scenes_dir))}
    proposer = make_proposer("programmatic", proposer_settings(cfg))
    arms = proposer.arms()
    proposals = proposer.propose(list(scenes.values()), {arm: per_arm for arm in arms}).proposals
    settings = verifier_settings(
        cfg.model_copy(update={"verifier": cfg.verifier.model_copy(update={"blind_check": False})})
    )
    with make_sandbox("local", workers=cfg.sandbox.workers) as sandbox:
        samples = Verifier(settings, sandbox=sandbox).verify(proposals, scenes).samples
    accepted = [s for s in samples if s.verdict == "accepted"]
    write_samples(accepted, out / "pool.parquet")
    made = {f"{t}|{lvl}": 0 for t, lvl in arms}
    for s in accepted:
        made[f"{s.proposal.question_type}|{s.proposal.level}"] += 1
    record = {"per_arm": per_arm, "made": made, "yield": {k: v / per_arm for k, v in made.items()}}
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")
    return record


class Pools:
    """One run's view of the pools: each arm's samples in a seed-fixed order, a cursor each."""

    def __init__(self, samples: list[Any], record: dict[str, Any], seed: int, probe_per_arm: int):
        by_arm: dict[Arm, list[Any]] = {}
        for s in sorted(samples, key=lambda s: s.sample_id):
            by_arm.setdefault((s.proposal.question_type, s.proposal.level), []).append(s)
        self.probe = [s for arm in sorted(by_arm) for s in by_arm[arm][:probe_per_arm]]
        self.order = {}
        for arm, group in by_arm.items():
            rest = group[probe_per_arm:]
            random.Random(f"{seed}:{arm}").shuffle(rest)
            self.order[arm] = rest
        self.fill = {
            tuple([k.split("|")[0], int(k.split("|")[1])]): y for k, y in record["yield"].items()
        }
        self.cursor = dict.fromkeys(self.order, 0)
        self.seed = seed

    def draw(self, quotas: dict[Arm, int], round_index: int) -> tuple[list[Any], dict[Arm, int]]:
        """Fill each slot with the arm's yield from the arm's remaining pool."""
        out, made = [], {}
        for arm, n in sorted(quotas.items()):
            rng = random.Random(f"{self.seed}:{round_index}:{arm}")
            filled = sum(rng.random() < self.fill.get(arm, 0.0) for _ in range(n))
            group, start = self.order.get(arm, []), self.cursor.get(arm, 0)
            taken = group[start : start + filled]
            self.cursor[arm] = start + len(taken)
            made[arm] = len(taken)
            out += taken
        return out, made
