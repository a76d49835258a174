"""What each difficulty signal costs: CPU seconds per sample on the tiny solver.

    .venv/bin/python bench/signals.py --samples runs/loop-pools/pool.parquet \
        --scenes runs/loop-pools/shared/scenes --model runs/loop-pools/warmup/training/... -n 32

Scores the same `n` accepted samples (half multiple choice, half numeric where the file
has them) with every registered signal at its default settings and prints process CPU
time per sample (CPU time, not wall time, so a busy shared machine does not inflate it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table


def main(argv: list[str] | None = None) -> None:
    import torch

    from agents.sample_io import read_samples
    from agents.signals import SIGNALS, make_signal
    from agents.solver.config import SolverConfig
    from agents.solver.items import SolverItem
    from agents.solver.solver import Solver
    from scenes.schema import Scene, list_scene_dirs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, required=True, help="Accepted samples (Parquet).")
    parser.add_argument("--scenes", type=Path, required=True, help="Their scene folders.")
    parser.add_argument("--model", required=True, help="Solver checkpoint folder.")
    parser.add_argument("-n", type=int, default=32, help="Samples to score.")
    parser.add_argument("--frames", type=int, default=4, help="Frames per question.")
    parser.add_argument("--frame-size", type=int, default=64, help="Frame size in pixels.")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    samples = read_samples(args.samples)
    choice = [s for s in samples if s.proposal.answer_kind == "multiple_choice"][: args.n // 2]
    numeric = [s for s in samples if s.proposal.answer_kind == "numeric"][: args.n - len(choice)]
    picked = choice + numeric
    dirs = {Scene.load(d).id: d for d in list_scene_dirs(args.scenes)}
    config = SolverConfig(
        model=args.model, device="cpu", num_frames=args.frames, frame_size=args.frame_size
    )
    solver = Solver(config)
    items = [
        SolverItem.from_sample(s, dirs[s.proposal.scene_id], None, args.frames) for s in picked
    ]
    table = Table(title=f"{len(choice)} multiple choice + {len(numeric)} numeric samples")
    for column in ("signal", "CPU s / sample", "mean p (choice)", "mean p (numeric)"):
        table.add_column(column)
    for name in SIGNALS:
        signal = make_signal(name)
        start = time.process_time()
        values = signal.score(solver, items)
        spent = time.process_time() - start
        mc = [v.p for v, s in zip(values, picked, strict=True) if s in choice]
        num = [v.p for v, s in zip(values, picked, strict=True) if s not in choice]
        table.add_row(
            name,
            f"{spent / len(items):.3f}",
            f"{sum(mc) / max(1, len(mc)):.3f}",
            f"{sum(num) / max(1, len(num)):.3f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
