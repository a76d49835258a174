"""Proposal throughput: 1,000 samples over 10 procedural scenes, target under a minute.

    .venv/bin/python bench/propose.py [--num 1000] [--scenes 10] [--workers 2]

Stages, timed separately: allocating and writing the proposals (programmatic proposer,
bandit policy, all task types), running every program in the local sandbox (warm pool
start included), and writing the Parquet file. Scene generation is not timed: the scenes
are made first (or read from --scene-dir). The machine's load average is printed beside
the table, since other processes slow every row.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench_common import parse_config, procedural_scenes
from rich.console import Console
from rich.table import Table

from agents.curriculum import make_policy
from agents.execution import execute
from agents.proposers import ProgrammaticConfig, make_proposer, plan_and_propose
from agents.sample_io import write_samples
from tools.sandbox import make_sandbox


@dataclass
class BenchConfig:
    num: int = field(default=1000, metadata={"help": "Proposals to make."})
    scenes: int = field(default=10, metadata={"help": "Procedural scenes to make them on."})
    seed: int = field(default=0, metadata={"help": "Seed of scenes and proposer."})
    workers: int = field(default=2, metadata={"help": "Local sandbox workers."})
    frames: int = field(default=32, metadata={"help": "Frames per generated scene."})
    width: int = field(default=320, metadata={"help": "Frame width of generated scenes."})
    height: int = field(default=240, metadata={"help": "Frame height of generated scenes."})
    scene_dir: str | None = field(default=None, metadata={"help": "Reuse scenes from here."})


def main() -> None:
    config = parse_config(BenchConfig, __doc__.splitlines()[0])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(config.scene_dir or Path(tmp) / "scenes")
        scenes = procedural_scenes(
            root, config.scenes, config.seed, config.frames, config.width, config.height
        )
        proposer = make_proposer("programmatic", ProgrammaticConfig(seed=config.seed))

        start = time.perf_counter()
        batch = plan_and_propose(
            proposer, scenes, config.num, make_policy("bandit", seed=config.seed)
        )
        proposed = time.perf_counter()
        with make_sandbox("local", workers=config.workers) as sandbox:
            samples = execute(batch.proposals, {s.id: s for s in scenes}, sandbox)
        executed = time.perf_counter()
        write_samples(samples, Path(tmp) / "samples.parquet")
        written = time.perf_counter()

    verdicts = Counter(s.verdict for s in samples)
    table = Table(title=f"propose: {config.num} over {len(scenes)} procedural scenes")
    for column in ("stage", "seconds", "items", "items/s"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    rows = [
        ("propose (allocate + templates)", proposed - start, len(batch.proposals)),
        (f"execute (sandbox, {config.workers} workers)", executed - proposed, len(samples)),
        ("write parquet", written - executed, len(samples)),
        ("total", written - start, len(samples)),
    ]
    for stage, seconds, items in rows:
        table.add_row(stage, f"{seconds:.2f}", str(items), f"{items / seconds:.0f}")
    console = Console()
    console.print(table)
    console.print(
        f"{verdicts['pending']} passed execution, {verdicts['rejected']} rejected; "
        f"{config.num - len(batch.proposals)} not proposed; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"target: total under 60 s -> {'met' if written - start < 60 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
