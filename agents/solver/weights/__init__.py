"""Solver checkpoints shipped in the repository (small enough to keep in git).

`seeing-tiny/`: the tiny Qwen3-VL solver whose vision tower was pretrained on rendered
dense labels (`python -m training.perception`; command and seed in its README.md). The
loop's `solver.model: tiny-seeing` starts from it.
"""

from __future__ import annotations

from pathlib import Path

#: The shipped seeing tiny solver: loads with `from_pretrained` like any checkpoint folder.
SEEING_TINY_DIR = Path(__file__).resolve().parent / "seeing-tiny"

#: `solver.model` names the loop builds or copies into the run instead of loading.
TINY_MODELS: tuple[str, ...] = ("tiny", "tiny-seeing")


def write_starting_solver(model: str, target: Path, seed: int) -> Path:
    """Put the named tiny solver in `target`: 'tiny' is built with random weights from
    `seed`; 'tiny-seeing' is the shipped pretrained checkpoint, copied as it is."""
    import shutil

    if model == "tiny":
        from agents.solver.tiny import build_tiny_solver

        return build_tiny_solver(target, seed=seed)
    if model == "tiny-seeing":
        if not (SEEING_TINY_DIR / "config.json").exists():
            raise FileNotFoundError(
                f"the seeing tiny solver is missing from {SEEING_TINY_DIR}; rebuild it with "
                "'python -m training.perception --out agents/solver/weights/seeing-tiny'"
            )
        shutil.copytree(SEEING_TINY_DIR, target, dirs_exist_ok=True)
        return target
    raise ValueError(f"unknown tiny solver {model!r}; use one of {', '.join(TINY_MODELS)}")
