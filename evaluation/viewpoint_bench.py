"""A held-out viewpoint benchmark (Actial's three questions), built like ProcSpatial.

Procedural scenes from a reserved seed range (`VIEWPOINT_SEED_BASE`, inside the held-out
range and apart from ProcSpatial's seeds) are rendered with orbit views; the programmatic
proposer asks the three viewpoint-pair tasks at every level; the local sandbox and the
verifier's checks (all but the blind one) keep sound questions; each (task, level) arm
gets an even share. The folder has ProcSpatial's layout and manifest, so
`evaluation.procspatial.ProcSpatial.load` and `ouroboros eval` read it unchanged.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from agents.curriculum import Arm
from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
from agents.records import Sample
from common.errors import UserError
from common.io import atomic_directory, atomic_write_bytes, atomic_write_text
from evaluation.held_out import HELD_OUT_SEED_START, check_held_out_seeds
from evaluation.procspatial import (
    MANIFEST_FILE,
    NAME,
    PROCSPATIAL_VERSION,
    ROWS_FILE,
    ArmCount,
    ProcSpatialManifest,
    rows_fingerprint,
)
from evaluation.procspatial_build import VERIFIER_CHECKS, _progress, _run_and_verify
from evaluation.procspatial_plan import (
    ROW_SCHEMA,
    allocate,
    balance,
    order_rows,
    to_row,
    unusable_reason,
)
from scenes.procedural.generate import GENERATOR_VERSION, write_scene
from scenes.schema import Scene
from tools.sandbox import make_sandbox

#: First seed of the viewpoint benchmark's scenes (ProcSpatial uses the seeds from 1,000,000).
VIEWPOINT_SEED_BASE = HELD_OUT_SEED_START + 500_000
VIEWPOINT_TASKS: tuple[str, ...] = (
    "viewpoint_camera_translation",
    "viewpoint_object_translation",
    "viewpoint_camera_rotation",
)
LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass
class ViewpointBenchConfig:
    """How the viewpoint benchmark is built."""

    size: int = field(default=150, metadata={"help": "Questions to build (about)."})
    seed_base: int = field(
        default=VIEWPOINT_SEED_BASE, metadata={"help": "First scene seed (held-out range)."}
    )
    num_scenes: int | None = field(
        default=None, metadata={"help": "Scenes to render (default: one per 8 questions, >= 4)."}
    )
    orbit_pairs: int = field(default=4, metadata={"help": "Orbit view pairs per scene."})
    walkthrough_frames: int = field(default=8, metadata={"help": "Walkthrough frames per scene."})
    width: int = field(default=160, metadata={"help": "Frame width in pixels."})
    height: int = field(default=120, metadata={"help": "Frame height in pixels."})
    workers: int | None = field(default=None, metadata={"help": "Sandbox workers."})

    def scenes_needed(self) -> int:
        return self.num_scenes if self.num_scenes is not None else max(4, math.ceil(self.size / 8))

    def check(self) -> None:
        if self.size < 1 or self.orbit_pairs < 1:
            raise UserError("the viewpoint benchmark needs size >= 1 and orbit_pairs >= 1")
        check_held_out_seeds(self.seed_base, self.scenes_needed(), what="viewpoint seed_base")


def _render(config: ViewpointBenchConfig, folder: Path) -> list[Scene]:
    scenes = []
    for seed in range(config.seed_base, config.seed_base + config.scenes_needed()):
        target = folder / f"proc_{seed:06d}"
        write_scene(
            seed,
            target,
            config.walkthrough_frames,
            config.width,
            config.height,
            None,
            config.orbit_pairs,
        )
        scenes.append(Scene.load(target))
    return scenes


def _rows(
    config: ViewpointBenchConfig, scenes: list[Scene], progress: Any
) -> tuple[list[dict[str, Any]], list[ArmCount], dict[str, int], dict[str, int]]:
    arms = {task: list(LEVELS) for task in VIEWPOINT_TASKS}
    quotas = allocate(arms, config.size)
    proposer = ProgrammaticProposer(
        ProgrammaticConfig(
            seed=config.seed_base,
            tasks=list(VIEWPOINT_TASKS),
            scene_attempts=len(scenes),
            refill=False,
        )
    )
    requests = {arm: quota + max(2, quota // 2) for arm, quota in quotas.items() if quota}
    batch = proposer.propose(scenes, requests)
    settings = {"workers": config.workers} if config.workers else {}
    with make_sandbox("local", **settings) as sandbox:
        samples = _run_and_verify(batch.proposals, scenes, sandbox, progress)
    kept: dict[Arm, list[Sample]] = {}
    dropped: Counter[str] = Counter()
    for sample in samples:
        why = unusable_reason(sample)
        if why is None:
            kept.setdefault((sample.proposal.question_type, sample.proposal.level), []).append(
                sample
            )
        else:
            dropped[why] += 1
    chosen, shortfall = balance(kept, quotas)
    rows = [to_row(i, sample) for i, sample in enumerate(order_rows(chosen))]
    counts = [
        ArmCount(task=name, level=level, quota=quota, rows=len(chosen[(name, level)]))
        for (name, level), quota in quotas.items()
    ]
    return rows, counts, shortfall, dict(sorted(dropped.items()))


def build_viewpoint_bench(
    out_dir: str | Path, config: ViewpointBenchConfig | None = None, progress: bool = False
) -> Path:
    """Build the benchmark into `out_dir` (which must not exist); returns the folder."""
    config = config or ViewpointBenchConfig()
    config.check()
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise UserError(f"{out_dir} already exists; choose another folder or remove it")
    with atomic_directory(out_dir) as tmp, _progress(progress) as bar:
        scenes = _render(config, tmp / NAME)
        rows, arms, shortfall, dropped = _rows(config, scenes, bar)
        if not rows:
            raise UserError("no viewpoint question could be built; use more scenes")
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(rows, schema=ROW_SCHEMA), sink)
        atomic_write_bytes(tmp / ROWS_FILE, sink.getvalue().to_pybytes())
        manifest = ProcSpatialManifest(
            name="viewpoint",
            version=PROCSPATIAL_VERSION,
            fingerprint=rows_fingerprint(rows),
            size=config.size,
            num_rows=len(rows),
            seed_base=config.seed_base,
            num_scenes=len(scenes),
            walkthrough_frames=config.walkthrough_frames,
            width=config.width,
            height=config.height,
            question_frames=2,
            vsibench_only=False,
            tasks=list(VIEWPOINT_TASKS),
            verifier_checks=list(VERIFIER_CHECKS),
            question_types=list(dict.fromkeys(row["question_type"] for row in rows)),
            arms=arms,
            shortfall=shortfall,
            dropped=dropped,
            generator_version=GENERATOR_VERSION,
        )
        atomic_write_text(tmp / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")
    return out_dir
