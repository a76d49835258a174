"""Actial's hybrid cold start: viewpoint SFT data with a few worked reasonings.

Stage 1 of the `actial` recipe has its own data source: procedural scenes rendered with
orbit views (seeds apart from the loop's pool and the held-out range), asked the three
viewpoint-pair questions by the programmatic proposer, answered in the sandbox. Each
sample is then trained either as a direct letter answer (the solver's own prompt) or,
for a `reasoning_fraction` of them (Actial: 10%), as a chain of thought built from exact
geometry (the shared object, how far it shifted in the image, the camera's translation
and turn) followed by `<answer>X</answer>`, under the answer-tag prompt GRPO uses.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tools.geometry as g
from agents.records import Sample
from common.errors import UserError
from evaluation.held_out import check_training_seeds
from scenes.schema import Scene, list_scene_dirs

VIEWPOINT_TASKS: tuple[str, ...] = (
    "viewpoint_camera_translation",
    "viewpoint_object_translation",
    "viewpoint_camera_rotation",
)
PERSPECTIVE: Mapping[str, str] = {
    "viewpoint_camera_translation": "camera",
    "viewpoint_object_translation": "object",
    "viewpoint_camera_rotation": "rotation",
}


@dataclass
class ColdStartConfig:
    """Stage 1's data: which scenes, how many questions, how many carry a reasoning."""

    num_scenes: int = field(default=12, metadata={"help": "Procedural scenes with orbit views."})
    seed: int = field(
        default=600_000,
        metadata={
            "help": "Seed of the first scene; apart from the loop's pool (and the warm-up's "
            "500,000..) and below the held-out range."
        },
    )
    orbit_pairs: int = field(default=4, metadata={"help": "Orbit view pairs per scene."})
    frames: int = field(default=8, metadata={"help": "Walkthrough frames per scene."})
    width: int = field(default=160, metadata={"help": "Frame width in pixels."})
    height: int = field(default=120, metadata={"help": "Frame height in pixels."})
    questions_per_arm: int = field(
        default=8, metadata={"help": "Questions per (viewpoint task, level)."}
    )
    levels: list[int] = field(
        default_factory=lambda: [1, 2, 3, 4, 5], metadata={"help": "Levels asked."}
    )
    reasoning_fraction: float = field(
        default=0.1,
        metadata={"help": "Share of samples trained with a worked reasoning (Actial: 0.1)."},
    )
    epochs: float = field(
        default=2.0, metadata={"help": "Passes over the data (Actial: 2); sets the step count."}
    )
    mix_seed: int = field(default=0, metadata={"help": "Seed choosing the reasoning samples."})

    def check(self) -> None:
        check_training_seeds(self.seed, self.num_scenes, what="cold-start seed")
        if not 0.0 <= self.reasoning_fraction <= 1.0:
            raise UserError(f"reasoning_fraction must lie in [0, 1], got {self.reasoning_fraction}")
        if self.epochs <= 0 or self.questions_per_arm < 1 or self.orbit_pairs < 1:
            raise UserError("cold start: epochs, questions_per_arm and orbit_pairs must be > 0")

    def steps(self, num_samples: int, global_batch_size: int) -> int:
        """Optimizer steps that make `epochs` passes over `num_samples` samples."""
        return max(1, math.ceil(self.epochs * num_samples / global_batch_size))


def coldstart_scenes(root: Path, config: ColdStartConfig, progress: bool = False) -> Path:
    """Render the cold-start scenes into `root` once (each scene folder appears atomically)."""
    from scenes.procedural.generate import write_scene

    config.check()
    root.mkdir(parents=True, exist_ok=True)
    for seed in range(config.seed, config.seed + config.num_scenes):
        target = root / f"proc_{seed:06d}"
        if not target.exists():
            write_scene(
                seed, target, config.frames, config.width, config.height, None, config.orbit_pairs
            )
    return root


def build_viewpoint_samples(
    scene_root: Path, config: ColdStartConfig, workers: int | None = None
) -> list[Sample]:
    """Viewpoint-pair questions on the cold-start scenes, answered in the local sandbox."""
    from agents.execution import execute
    from agents.proposers import ProgrammaticConfig, ProgrammaticProposer
    from tools.sandbox import make_sandbox

    scenes = [Scene.load(folder) for folder in list_scene_dirs(scene_root)]
    proposer = ProgrammaticProposer(
        ProgrammaticConfig(
            seed=config.seed, tasks=list(VIEWPOINT_TASKS), scene_attempts=len(scenes)
        )
    )
    quotas = {arm: config.questions_per_arm for arm in proposer.arms() if arm[1] in config.levels}
    batch = proposer.propose(scenes, quotas)
    with make_sandbox("local", **({"workers": workers} if workers else {})) as sandbox:
        executed = execute(batch.proposals, {s.id: s for s in scenes}, sandbox)
    return [
        sample.model_copy(update={"verdict": "accepted", "reason": None})
        for sample in executed
        if sample.verdict != "rejected" and sample.ground_truth is not None
    ]


def _image_x(frame: g.FrameView, point: Any) -> float | None:
    """Horizontal image position of a world point, as a share of the width (None: behind)."""
    local = frame.rotation.T @ (point - frame.position)
    if local[2] <= 1e-6:
        return None
    intrinsics = frame.intrinsics
    u = intrinsics["fx"] * local[0] / local[2] + intrinsics["cx"]
    return float(u / intrinsics["width"])


def _where(share: float | None) -> str:
    if share is None:
        return "behind the camera"
    return f"{round(100 * share)}% of the way across"


def reasoning_text(sample: Sample, scene: Scene) -> str:
    """A worked reasoning from exact geometry, ending in the answer option (no tags)."""
    proposal = sample.proposal
    perspective = PERSPECTIVE.get(proposal.question_type)
    if perspective is None or not proposal.frame_indices or not proposal.referenced_instances:
        raise ValueError(f"{proposal.question_type} is not a viewpoint-pair question")
    view = g.SceneView(scene)
    first, second = (view.frame(i) for i in proposal.frame_indices[:2])
    obj = view.object(proposal.referenced_instances[0])
    x1, x2 = _image_x(first, obj.center), _image_x(second, obj.center)
    motion = g.camera_motion(first, second)
    answer = next(
        o.partition(". ")[2] for o in proposal.options if o.startswith(f"{sample.ground_truth}.")
    )
    parts = [f"Both images show the {obj.category}."]
    parts.append(
        f"It is {_where(x1)} the first image and {_where(x2)} the second"
        + (
            f", a shift of {abs(round(100 * (x2 - x1)))}% of the width to the "
            f"{'right' if x2 > x1 else 'left'}."
            if x1 is not None and x2 is not None
            else "."
        )
    )
    parts.append(
        f"The camera moved {abs(motion.left_m):.1f} m to its {'left' if motion.left_m > 0 else 'right'} "
        f"and {abs(motion.forward_m):.1f} m {'forward' if motion.forward_m > 0 else 'backward'}, "
        f"and turned {abs(motion.yaw_deg):.0f} degrees to the "
        f"{'left' if motion.yaw_deg > 0 else 'right'}."
    )
    if perspective == "object":
        front = obj.rotation[:, 1]
        left = (-float(front[1]), float(front[0]))
        moved = second.position[:2] - first.position[:2]
        along = float(moved[0] * left[0] + moved[1] * left[1]) / max(math.hypot(*left), 1e-9)
        parts.append(
            f"Measured along the {obj.category}'s own left-right axis, that is {abs(along):.1f} m "
            f"towards its {'left' if along > 0 else 'right'}, so from the {obj.category}'s view "
            f"the camera moved {answer}."
        )
    elif perspective == "camera":
        parts.append(f"So, judged from the first camera, it moved {answer}.")
    else:
        parts.append(f"So the camera rotated {answer}.")
    return " ".join(parts)


def reasoning_reply(sample: Sample, scene: Scene) -> str:
    return f"<think>{reasoning_text(sample, scene)}</think><answer>{sample.ground_truth}</answer>"


def choose_reasoning(sample_ids: Sequence[str], fraction: float, seed: int) -> set[str]:
    """Which samples get a reasoning: round(fraction x n) of them (at least one when > 0)."""
    if fraction <= 0 or not sample_ids:
        return set()
    count = min(len(sample_ids), max(1, round(fraction * len(sample_ids))))
    return set(random.Random(seed).sample(sorted(sample_ids), count))
