"""Build ProcSpatial: held-out procedural scenes, balanced questions, executed ground truths.

The recipe (version `PROCSPATIAL_VERSION`):

1. Render `num_scenes` procedural scenes from seeds `seed_base ..` (the reserved
   held-out range, `evaluation.held_out`).
2. Split `size` evenly over the version's pinned task types (`PROCSPATIAL_TASKS`, not
   the live registry, so registering a task leaves the benchmark as it was), then each
   type's share evenly over its difficulty levels 1-5 (remainders rotate over levels so
   no level is always short).
3. Ask the programmatic proposer (seeded by `seed_base`) for each arm's quota plus some
   slack, trying every scene before an arm gives up.
4. Run every program in the local sandbox, then the verifier's checks except the blind
   one (which needs a solver, and a benchmark must not depend on one); keep questions
   with a well-formed, scorable ground truth that passed them all.
5. Keep each arm's first `quota` questions; a level that could not fill its quota hands
   the gap to the same type's other levels, so types stay balanced; what no level could
   supply is recorded as `shortfall` in the manifest.

Everything is seeded and sorted, so building twice gives identical rows (and the same
fingerprint). The folder appears atomically: a failed build leaves nothing behind.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agents.curriculum import Arm
from agents.execution import execute
from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
from agents.records import Sample
from agents.verifier import CHECKS, Verifier, VerifierConfig
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
from evaluation.procspatial_plan import (
    ROW_SCHEMA,
    allocate,
    balance,
    benchmark_arms,
    order_rows,
    pinned_tasks,
    to_row,
    unusable_reason,
)
from scenes.procedural.generate import GENERATOR_VERSION, write_scene
from scenes.schema import Scene
from tools.sandbox import Sandbox, make_sandbox


@dataclass
class ProcSpatialConfig:
    """How a ProcSpatial folder is built; the defaults are the published benchmark."""

    size: int = field(default=1000, metadata={"help": "Questions to build (about; see shortfall)."})
    seed_base: int = field(
        default=HELD_OUT_SEED_START,
        metadata={"help": "Seed of the first scene; must be in the reserved held-out range."},
    )
    num_scenes: int | None = field(
        default=None,
        metadata={"help": "Scenes to render (default: one per 10 questions, at least 4)."},
    )
    walkthrough_frames: int = field(default=32, metadata={"help": "Frames rendered per scene."})
    width: int = field(default=640, metadata={"help": "Frame width in pixels."})
    height: int = field(default=480, metadata={"help": "Frame height in pixels."})
    question_frames: int = field(
        default=16,
        metadata={
            "help": "Frames per question (uniform over the walkthrough unless the task "
            "picks its own); ground truths and visibility are checked on these."
        },
    )
    vsibench_only: bool = field(
        default=False, metadata={"help": "Only VSI-Bench's question types (not our own)."}
    )
    version: str = field(
        default=PROCSPATIAL_VERSION,
        metadata={"help": "Recipe version: one of PROCSPATIAL_TASKS (default the newest)."},
    )
    workers: int | None = field(
        default=None,
        metadata={"help": "Sandbox workers running the programs (default: CPUs, max 4)."},
    )

    def scenes_needed(self) -> int:
        return self.num_scenes if self.num_scenes is not None else max(4, math.ceil(self.size / 10))

    def check(self) -> None:
        pinned_tasks(self.version)  # a known version whose tasks all still exist
        if self.size < 1:
            raise UserError(f"--size must be at least 1, got {self.size}")
        if self.num_scenes is not None and self.num_scenes < 1:
            raise UserError(f"--num-scenes must be at least 1, got {self.num_scenes}")
        if self.question_frames < 1:
            raise UserError(f"--question-frames must be at least 1, got {self.question_frames}")
        check_held_out_seeds(self.seed_base, self.scenes_needed())


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def _render(config: ProcSpatialConfig, folder: Path, advance: Callable[[int], None]) -> list[Scene]:
    scenes = []
    for seed in range(config.seed_base, config.seed_base + config.scenes_needed()):
        target = folder / f"proc_{seed:06d}"
        write_scene(
            seed,
            target,
            config.walkthrough_frames,
            config.width,
            config.height,
            lambda _: advance(1),
        )
        scenes.append(Scene.load(target))
    return scenes


#: The verifier's checks ProcSpatial applies: all but the blind one.
VERIFIER_CHECKS: list[str] = [name for name in CHECKS if name != "blind"]


def _run_and_verify(
    proposals: list[Any], scenes: list[Scene], sandbox: Sandbox, progress: Progress
) -> list[Sample]:
    by_id = {scene.id: scene for scene in scenes}
    run = progress.add_task("executing", total=len(proposals))
    samples = execute(proposals, by_id, sandbox, on_progress=lambda n: progress.advance(run, n))
    check = progress.add_task("verifying", total=len(VERIFIER_CHECKS))
    verifier = Verifier(VerifierConfig(checks=list(VERIFIER_CHECKS)), sandbox=sandbox)
    report = verifier.verify(samples, by_id, on_progress=lambda _: progress.advance(check, 1))
    return report.samples


def _questions(
    config: ProcSpatialConfig, scenes: list[Scene], progress: Progress
) -> tuple[list[dict[str, Any]], list[ArmCount], dict[str, int], dict[str, int]]:
    arms = benchmark_arms(config.vsibench_only, config.version)
    quotas = allocate(arms, config.size)
    proposer = ProgrammaticProposer(
        ProgrammaticConfig(
            seed=config.seed_base,
            tasks=list(arms),
            num_solver_frames=config.question_frames,
            scene_attempts=len(scenes),
            refill=False,
        )
    )
    requests = {arm: quota + max(2, quota // 2) for arm, quota in quotas.items() if quota}
    step = progress.add_task("proposing", total=sum(requests.values()))
    batch = proposer.propose(scenes, requests, lambda n: progress.advance(step, n))
    settings = {"workers": config.workers} if config.workers else {}
    with make_sandbox("local", **settings) as sandbox:
        samples = _run_and_verify(batch.proposals, scenes, sandbox, progress)
    kept: dict[Arm, list[Sample]] = {}
    dropped: Counter[str] = Counter()
    for sample in samples:
        why = unusable_reason(sample)
        if why is None:
            arm = (sample.proposal.question_type, sample.proposal.level)
            kept.setdefault(arm, []).append(sample)
        else:
            dropped[why] += 1
    chosen, shortfall = balance(kept, quotas)
    rows = [to_row(i, sample) for i, sample in enumerate(order_rows(chosen))]
    counts = [
        ArmCount(task=name, level=level, quota=quota, rows=len(chosen[(name, level)]))
        for (name, level), quota in quotas.items()
    ]
    return rows, counts, shortfall, dict(sorted(dropped.items()))


def build_procspatial(
    out_dir: str | Path,
    size: int = 1000,
    seed_base: int = HELD_OUT_SEED_START,
    frames: int = 32,
    width: int = 640,
    height: int = 480,
    version: str = PROCSPATIAL_VERSION,
    *,
    num_scenes: int | None = None,
    question_frames: int = 16,
    vsibench_only: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Build ProcSpatial into `out_dir` (which must not exist); returns the folder.

    `frames` is the walkthrough length per scene; `question_frames` how many of them each
    question shows the model."""
    config = ProcSpatialConfig(
        size=size,
        seed_base=seed_base,
        num_scenes=num_scenes,
        walkthrough_frames=frames,
        width=width,
        height=height,
        question_frames=question_frames,
        vsibench_only=vsibench_only,
        version=version,
        workers=workers,
    )
    return build_from_config(out_dir, config, progress)


def build_from_config(
    out_dir: str | Path, config: ProcSpatialConfig, progress: bool = True
) -> Path:
    """Build from a config (the recipe in the module docstring); rich progress when asked."""
    config.check()
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise UserError(f"{out_dir} already exists; choose another --out or remove it")
    with atomic_directory(out_dir) as tmp, _progress(progress) as bar:
        render = bar.add_task("rendering", total=config.scenes_needed() * config.walkthrough_frames)
        scenes = _render(config, tmp / NAME, lambda n: bar.advance(render, n))
        rows, arms, shortfall, dropped = _questions(config, scenes, bar)
        if not rows:
            raise UserError(
                "no question could be built; use more scenes (--num-scenes) or a larger --size"
            )
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(rows, schema=ROW_SCHEMA), sink)
        atomic_write_bytes(tmp / ROWS_FILE, sink.getvalue().to_pybytes())
        manifest = ProcSpatialManifest(
            version=config.version,
            fingerprint=rows_fingerprint(rows),
            size=config.size,
            num_rows=len(rows),
            seed_base=config.seed_base,
            num_scenes=len(scenes),
            walkthrough_frames=config.walkthrough_frames,
            width=config.width,
            height=config.height,
            question_frames=config.question_frames,
            vsibench_only=config.vsibench_only,
            tasks=list(benchmark_arms(config.vsibench_only, config.version)),
            verifier_checks=list(VERIFIER_CHECKS),
            question_types=list(dict.fromkeys(row["question_type"] for row in rows)),
            arms=arms,
            shortfall=shortfall,
            dropped=dropped,
            generator_version=GENERATOR_VERSION,
        )
        atomic_write_text(tmp / MANIFEST_FILE, manifest.model_dump_json(indent=2) + "\n")
    return out_dir
