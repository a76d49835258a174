"""The verifier on a programmatic round: 1,000 proposals over 10 procedural scenes.

    .venv/bin/python bench/verify.py [--num 1000] [--scenes 10] [--blind 1] [--markdown FILE]

Makes the scenes (160x120 frames, untimed; or reads --scene-dir), proposes with the
programmatic proposer (bandit policy, all task types), executes every program in the
local sandbox, then verifies (second run, typed answer, agreement, ambiguity, grounding,
de-duplication and, with --blind 1, the blind check with the tiny random-weight solver).
Prints the stage times, the share each check removed and the reasons per task type;
--markdown also writes the two tables as Markdown (docs/verifier.md records them).

--faults N adds N corrupted copies of the proposals, in equal parts of the mistakes an LLM
proposer makes (see `FAULTS`), so the table shows every check at work on one round.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_common import parse_config, procedural_scenes
from rich.console import Console
from rich.table import Table

from agents.curriculum import make_policy
from agents.execution import execute
from agents.proposers import ProgrammaticConfig, make_proposer, plan_and_propose
from agents.records import Proposal
from agents.verifier import Verifier
from tools.geometry import SceneView
from tools.sandbox import make_sandbox

RANDOM_NUMBER = "import random\n\ndef solve(scene):\n    return round(random.uniform(2, 9), 1)\n"
IN_CENTIMETRES = "\n_in_metres = solve\n\ndef solve(scene):\n    return 100 * _in_metres(scene)\n"


@dataclass
class BenchConfig:
    num: int = field(default=1000, metadata={"help": "Proposals to make."})
    scenes: int = field(default=10, metadata={"help": "Procedural scenes to make them on."})
    seed: int = field(default=0, metadata={"help": "Seed of scenes, proposer and policy."})
    workers: int = field(default=2, metadata={"help": "Local sandbox workers."})
    frames: int = field(default=32, metadata={"help": "Frames per generated scene."})
    width: int = field(default=160, metadata={"help": "Frame width of generated scenes."})
    height: int = field(default=120, metadata={"help": "Frame height of generated scenes."})
    policy: str = field(default="bandit", metadata={"help": "Curriculum policy: bandit | uniform."})
    blind: int = field(default=1, metadata={"help": "1: blind check with the tiny solver; 0: off."})
    faults: int = field(default=0, metadata={"help": "Corrupted copies to add (see FAULTS)."})
    scene_dir: str = field(default="", metadata={"help": "Reuse scenes from here."})
    markdown: str = field(default="", metadata={"help": "Also write the tables here (Markdown)."})


def tiny_solver(folder: Path) -> object:
    from agents.solver import Solver, SolverConfig, build_tiny_solver

    path = build_tiny_solver(folder / "tiny-solver", seed=0)
    return Solver(SolverConfig(model=str(path), device="cpu", frame_size=64, batch_size=64))


def malformed(p: Proposal, view: SceneView, rng: random.Random) -> object:
    return p.model_dump() | {"answer_kind": "essay"}


def nondeterministic(p: Proposal, view: SceneView, rng: random.Random) -> object:
    return p.model_copy(update={"program": RANDOM_NUMBER, "options": [], "answer_kind": "numeric"})


def wrong_unit(p: Proposal, view: SceneView, rng: random.Random) -> object:
    """A distance program that answers in centimetres; other tasks keep their program."""
    if p.question_type != "object_abs_distance" or p.options:
        return None
    return p.model_copy(update={"program": p.program + IN_CENTIMETRES})


def wrong_stated_answer(p: Proposal, view: SceneView, rng: random.Random) -> object:
    letters = p.option_letters or ["1"]
    return p.model_copy(update={"stated_answer": rng.choice(letters) if p.options else "1000"})


def shared_referent(p: Proposal, view: SceneView, rng: random.Random) -> object:
    """'the X' swapped for a category the scene has several of."""
    shared = [c for c, n in view.counts().items() if n > 1]
    named = [o.category for o in view.objects if f"the {o.category}" in p.question]
    if not shared or not named:
        return None
    question = p.question.replace(f"the {named[0]}", f"the {rng.choice(shared)}", 1)
    return p.model_copy(update={"question": question})


def one_frame(p: Proposal, view: SceneView, rng: random.Random) -> object:
    if not view.frames or not p.referenced_instances:
        return None
    return p.model_copy(update={"frame_indices": [view.frames[0].index]})


def duplicate(p: Proposal, view: SceneView, rng: random.Random) -> object:
    return p


#: The mistakes --faults injects, each a function of (proposal, scene view, rng) -> a
#: corrupted candidate, or None when the proposal does not lend itself to it.
FAULTS = (
    malformed,
    nondeterministic,
    wrong_unit,
    wrong_stated_answer,
    shared_referent,
    one_frame,
    duplicate,
)


def inject_faults(
    proposals: list[Proposal], views: dict[str, SceneView], count: int, seed: int
) -> list[object]:
    """`count` corrupted copies, in equal parts per fault."""
    rng = random.Random(seed)
    faulty: list[object] = []
    for k, fault in enumerate(FAULTS):
        wanted = count // len(FAULTS) + (k < count % len(FAULTS))
        pool = list(proposals)
        rng.shuffle(pool)
        made = (fault(p, views[p.scene_id], rng) for p in pool)
        faulty += [c for c in made if c is not None][:wanted]
    return faulty


def main() -> None:
    config = parse_config(BenchConfig, (__doc__ or "").splitlines()[0])
    console = Console(width=200)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(config.scene_dir or Path(tmp) / "scenes")
        scenes = procedural_scenes(
            root, config.scenes, config.seed, config.frames, config.width, config.height
        )
        by_id = {s.id: s for s in scenes}
        solver = tiny_solver(Path(tmp)) if config.blind else None
        proposer = make_proposer("programmatic", ProgrammaticConfig(seed=config.seed))
        times: dict[str, float] = {}

        start = time.perf_counter()
        policy = make_policy(config.policy, seed=config.seed)
        batch = plan_and_propose(proposer, scenes, config.num, policy, None)
        times["propose"] = time.perf_counter() - start
        stage_start = [time.perf_counter()]
        stage_name = ["first run (execute)"]

        def lap(name: str) -> None:
            """Time each verifier check from the start of one to the start of the next."""
            now = time.perf_counter()
            times[stage_name[0]] = times.get(stage_name[0], 0.0) + now - stage_start[0]
            label = "second run (execution check)" if name == "execution" else name
            stage_name[0], stage_start[0] = label, now

        views = {s.id: SceneView(s) for s in scenes}
        faults = inject_faults(batch.proposals, views, config.faults, config.seed)
        with make_sandbox("local", workers=config.workers) as sandbox:
            samples = execute(batch.proposals, by_id, sandbox)
            verifier = Verifier(None, sandbox, solver)  # type: ignore[arg-type]
            report = verifier.verify([*samples, *faults], by_id, on_progress=lap)
            lap("done")

    console.print(timing_table(times, len(batch.proposals), len(faults), config))
    console.print(report.check_table())
    console.print(report.reason_table())
    console.print(report.reason_table("proposer_id"))
    for note in report.notes:
        console.print(f"note: {note}")
    if config.markdown:
        Path(config.markdown).write_text(report.markdown() + "\n", encoding="utf-8")
        console.print(f"wrote {config.markdown}")


def timing_table(
    times: dict[str, float], proposals: int, faults: int, config: BenchConfig
) -> Table:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = Table(
        title=f"{proposals} proposals + {faults} corrupted, {config.scenes} scenes "
        f"({config.width}x{config.height}, {config.frames} frames), load average {load}"
    )
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for stage, seconds in times.items():
        table.add_row(stage, f"{seconds:.1f}")
    table.add_row("total", f"{sum(times.values()):.1f}", style="bold")
    return table


if __name__ == "__main__":
    main()
