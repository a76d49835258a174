"""ViLaSR cold start: how many questions per task become filtered trajectories, and how fast.

    .venv/bin/python bench/vilasr_cold_start.py --scenes 4 --per-arm 2

Renders procedural scenes, proposes every (task, level) arm ``--per-arm`` times, runs the
programs in the local sandbox, writes the trajectories and prints, per task, the questions
with a ground truth and the trajectories that passed ViLaSR's filter.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from agents.execution import execute  # noqa: E402
from agents.proposers import ProgrammaticConfig, make_proposer  # noqa: E402
from agents.solver.transcript import Transcript  # noqa: E402
from scenes.procedural.generate import write_scene  # noqa: E402
from scenes.schema import Scene  # noqa: E402
from tools.sandbox import make_sandbox  # noqa: E402
from training.vilasr.cold_start import ColdStartSettings, build_cold_start  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--per-arm", type=int, default=2)
    parser.add_argument("--frames", type=int, default=8, help="Frames each question shows.")
    parser.add_argument("--reflection-rate", type=float, default=0.3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vilasr-cold-") as folder:
        root = Path(folder)
        dirs = [
            write_scene(seed, root / "scenes" / f"proc_{seed:06d}", 16, 160, 120)
            for seed in range(10, 10 + args.scenes)
        ]
        scenes = [Scene.load(d) for d in dirs]
        proposer = make_proposer("programmatic", ProgrammaticConfig(num_solver_frames=args.frames))
        proposals = proposer.propose(scenes, dict.fromkeys(proposer.arms(), args.per_arm))
        with make_sandbox("local", workers=1) as sandbox:
            executed = execute(proposals.proposals, {s.id: s for s in scenes}, sandbox)
        samples = [s for s in executed if s.ground_truth is not None]
        settings = ColdStartSettings(num_frames=args.frames, reflection_rate=args.reflection_rate)
        start = time.perf_counter()
        written, dropped = build_cold_start(samples, root / "scenes", root / "cold", settings)
        seconds = time.perf_counter() - start
        task_of = {s.sample_id: s.proposal.question_type for s in samples}
        asked = collections.Counter(task_of.values())
        kept = collections.Counter(task_of[w.name] for w in written)
        turns = [Transcript.load(w).num_turns for w in written]
    print("| task | questions | trajectories |\n| --- | --- | --- |")
    for task in sorted(asked):
        print(f"| {task} | {asked[task]} | {kept[task]} |")
    print(f"| **all** | {len(samples)} | {len(written)} |")
    mean_turns = sum(turns) / max(1, len(turns))
    print(f"\ndropped: {dict(dropped)}; {seconds:.2f} s; {mean_turns:.2f} turns on average")
    return {"samples": len(samples), "written": len(written), "dropped": dict(dropped)}


if __name__ == "__main__":
    main()
