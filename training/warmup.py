"""Perception warm-up: questions the procedural generator answers for free.

A solver with random weights scores about zero on every spatial task and is unsure of
everything, so difficulty feedback has nothing to steer by. A short, generic warm-up on
what a renderer knows for nothing (which objects show in which frames, and how much of
them) gives the solver some sight and the answer formats before any loop starts.

Three question forms, all built from `Frame.visible` pixel counts of the frames the
solver is shown (never from held-out scenes: `WarmupConfig.check` refuses those seeds):

- `perception_seen_object` (multiple choice): which of these objects can be seen?
  One option is clearly visible, the others are absent from the frames.
- `perception_most_visible` (multiple choice): which object takes up most of the frames?
- `perception_frames_showing` (numeric): in how many of the frames can a category be seen?

Each question carries a ground-truth program like every other sample; `build_warmup_samples`
runs them in the sandbox, so the answers follow the project's one contract.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agents.execution import execute
from agents.records import Proposal, Sample
from agents.tasks.base import CannotPose, program_source
from agents.tasks.options import LetterBalancer, place_answer
from common.errors import UserError
from evaluation.held_out import check_training_seeds
from scenes.procedural.catalog import KINDS
from scenes.schema import Frame, Scene
from tools.sandbox.base import Sandbox
from training.checkpoints import TrainResult
from training.config import SFTSettings

#: Categories the procedural generator can place: where absent-object distractors come from.
CATEGORIES: tuple[str, ...] = tuple(sorted({kind.category for kind in KINDS.values()}))


@dataclass
class WarmupConfig:
    """What the warm-up trains on: scenes, questions per scene, forms and steps."""

    num_scenes: int = field(default=8, metadata={"help": "Procedural scenes to ask about."})
    seed: int = field(
        default=500_000,
        metadata={
            "help": "Seed of the first warm-up scene; keep it apart from the loop's scene pool "
            "and below the held-out range."
        },
    )
    frames: int = field(default=16, metadata={"help": "Walkthrough frames per scene."})
    width: int = field(default=160, metadata={"help": "Frame width in pixels."})
    height: int = field(default=120, metadata={"help": "Frame height in pixels."})
    question_frames: int = field(
        default=4, metadata={"help": "Frames per question (the solver's num_frames)."}
    )
    questions_per_scene: int = field(
        default=30, metadata={"help": "Questions asked per scene (spread over the forms)."}
    )
    steps: int = field(default=60, metadata={"help": "SFT optimizer steps of the warm-up."})
    check_scenes: int = field(
        default=4,
        metadata={
            "help": "Further scenes (the seeds right after the warm-up's) whose questions measure "
            "the warm-up's own task on scenes it never saw."
        },
    )
    min_visible_fraction: float = field(
        default=0.02,
        metadata={"help": "A category counts as seen in a frame above this share of its pixels."},
    )
    forms: list[str] = field(
        default_factory=lambda: list(PERCEPTION_FORMS),
        metadata={"help": "Question forms to ask (names in PERCEPTION_FORMS)."},
    )

    def check(self) -> None:
        check_training_seeds(self.seed, self.num_scenes + self.check_scenes, what="warm-up seed")
        unknown = sorted(set(self.forms) - set(PERCEPTION_FORMS))
        if unknown or not self.forms:
            raise UserError(
                f"warm-up forms {unknown or self.forms} are not known; choose from "
                f"{', '.join(PERCEPTION_FORMS)}"
            )


# -- programs: the same rules the host uses to pick questions ---------------------------
_PIXELS = """
def pixels(scene, index, category):
    frame = scene.frame(index)
    return sum(frame.pixels(o.instance_id) for o in scene.objects_of(category))


def threshold(scene, index):
    frame = scene.frame(index)
    return max(int(frame.intrinsics["width"] * frame.intrinsics["height"] * MIN_FRACTION), 1)


def seen(scene, index, category):
    # clearly visible, clearly not, or too close to call
    n = pixels(scene, index, category)
    if n >= threshold(scene, index):
        return True
    if n * 5 < threshold(scene, index):
        return False
    raise g.Ambiguous(f"{category} is barely visible in frame {index}")
"""

_SEEN_OBJECT = """
def solve(scene):
    shown = [c for c in CATEGORIES if any(seen(scene, i, c) for i in FRAMES)]
    if len(shown) != 1:
        raise g.Ambiguous(f"{len(shown)} of the options can be seen")
    return shown[0]
"""

_MOST_VISIBLE = """
def solve(scene):
    totals = {c: sum(pixels(scene, i, c) for i in FRAMES) for c in CATEGORIES}
    ranked = sorted(CATEGORIES, key=lambda c: totals[c], reverse=True)
    if totals[ranked[0]] < MARGIN * totals[ranked[1]]:
        raise g.Ambiguous("the two largest options cover similar areas")
    return ranked[0]
"""

_FRAMES_SHOWING = """
def solve(scene):
    return sum(1 for i in FRAMES if seen(scene, i, CATEGORY))
"""

TRIES_PER_QUESTION = 20
MOST_VISIBLE_MARGIN = 1.5  # the answer covers at least this many times the runner-up's pixels


@dataclass
class _View:
    """Pixel counts per category in the question's frames, as the programs compute them."""

    scene: Scene
    frames: list[int]
    min_fraction: float

    def frame(self, index: int) -> Frame:
        return next(frame for frame in self.scene.frames if frame.index == index)

    def pixels(self, index: int, category: str) -> int:
        ids = {o.instance_id for o in self.scene.objects if o.category == category}
        return sum(n for i, n in self.frame(index).visible.items() if i in ids)

    def threshold(self, index: int) -> int:
        intrinsics = self.frame(index).intrinsics
        return max(int(intrinsics.width * intrinsics.height * self.min_fraction), 1)

    def seen_in(self, category: str) -> list[int]:
        return [i for i in self.frames if self.pixels(i, category) >= self.threshold(i)]

    def unseen_in(self, category: str) -> list[int]:
        return [i for i in self.frames if self.pixels(i, category) * 5 < self.threshold(i)]

    def unseen(self, category: str) -> bool:
        return len(self.unseen_in(category)) == len(self.frames)

    def clear(self, category: str) -> bool:
        """Seen or clearly not seen in every frame (no frame is too close to call)."""
        return len(self.seen_in(category)) + len(self.unseen_in(category)) == len(self.frames)

    def total(self, category: str) -> int:
        return sum(self.pixels(i, category) for i in self.frames)


def _proposal(
    view: _View, form: str, question: str, kind: str, options: list[str], **constants: object
) -> Proposal:
    body = _PIXELS + FORM_PROGRAMS[form]
    program = program_source(body, FRAMES=view.frames, MIN_FRACTION=view.min_fraction, **constants)
    return Proposal(
        scene_id=view.scene.id,
        question_type=form,
        question=question,
        options=options,
        answer_kind=kind,  # type: ignore[arg-type]
        program=program,
        frame_indices=list(view.frames),
        proposer_id="warmup",
    )


def _texts(options: Sequence[str]) -> list[str]:
    return [option.partition(". ")[2] for option in options]


def _seen_object(view: _View, rng: random.Random, letters: LetterBalancer) -> Proposal:
    visible = [c for c in CATEGORIES if view.seen_in(c)]
    absent = [c for c in CATEGORIES if view.unseen(c)]
    if not visible or len(absent) < 3:
        raise CannotPose("no_clear_object")
    answer, distractors = rng.choice(visible), rng.sample(absent, 3)
    options = place_answer(answer, distractors, key="seen", rng=rng, letters=letters)
    question = "Which of these objects can be seen in these frames?"
    return _proposal(
        view,
        "perception_seen_object",
        question,
        "multiple_choice",
        options,
        CATEGORIES=_texts(options),
    )


def _most_visible(view: _View, rng: random.Random, letters: LetterBalancer) -> Proposal:
    visible = [c for c in CATEGORIES if view.seen_in(c)]
    if len(visible) < 3:
        raise CannotPose("too_few_visible")
    chosen = sorted(rng.sample(visible, 3), key=view.total, reverse=True)
    if view.total(chosen[0]) < MOST_VISIBLE_MARGIN * view.total(chosen[1]):
        raise CannotPose("too_close")
    options = place_answer(chosen[0], chosen[1:], key="most", rng=rng, letters=letters)
    question = "Which of these objects takes up the largest part of these frames?"
    return _proposal(
        view,
        "perception_most_visible",
        question,
        "multiple_choice",
        options,
        CATEGORIES=_texts(options),
        MARGIN=MOST_VISIBLE_MARGIN,
    )


def _frames_showing(view: _View, rng: random.Random, letters: LetterBalancer) -> Proposal:
    present = sorted({o.category for o in view.scene.objects})
    clear = [c for c in present if view.clear(c)]
    if not clear:
        raise CannotPose("no_clear_category")
    category = rng.choice(clear)
    question = f"In how many of these frames can you see a {category}?"
    return _proposal(view, "perception_frames_showing", question, "numeric", [], CATEGORY=category)


PerceptionForm = Callable[[_View, random.Random, LetterBalancer], Proposal]
PERCEPTION_FORMS: dict[str, PerceptionForm] = {
    "perception_seen_object": _seen_object,
    "perception_most_visible": _most_visible,
    "perception_frames_showing": _frames_showing,
}
FORM_PROGRAMS: dict[str, str] = {
    "perception_seen_object": _SEEN_OBJECT,
    "perception_most_visible": _MOST_VISIBLE,
    "perception_frames_showing": _FRAMES_SHOWING,
}


def perception_proposals(scenes: Sequence[Scene], config: WarmupConfig) -> list[Proposal]:
    """Up to `questions_per_scene` questions per scene, the forms taking turns, each on a
    random set of frames (deterministic given `config.seed`). A form that cannot ask on
    one frame set tries others; after `TRIES_PER_QUESTION` that question is skipped."""
    rng = random.Random(config.seed)
    letters = LetterBalancer()
    proposals: list[Proposal] = []
    known: set[str] = set()
    for scene in scenes:
        indices = sorted(frame.index for frame in scene.walkthrough_frames)
        count = min(config.question_frames, len(indices))
        for slot in range(config.questions_per_scene):
            form = PERCEPTION_FORMS[config.forms[slot % len(config.forms)]]
            for _ in range(TRIES_PER_QUESTION):
                view = _View(scene, sorted(rng.sample(indices, count)), config.min_visible_fraction)
                try:
                    proposal = form(view, rng, letters)
                except CannotPose:
                    continue
                if proposal.fingerprint() not in known:
                    known.add(proposal.fingerprint())
                    proposals.append(proposal)
                    break
    return proposals


def build_warmup_samples(
    scenes: Sequence[Scene], config: WarmupConfig, sandbox: Sandbox
) -> list[Sample]:
    """The warm-up set: proposals whose programs ran to a clear answer, marked accepted."""
    config.check()
    proposals = perception_proposals(scenes, config)
    by_id: Mapping[str, Scene] = {scene.id: scene for scene in scenes}
    executed = execute(proposals, by_id, sandbox)
    return [
        sample.model_copy(update={"verdict": "accepted", "reason": None})
        for sample in executed
        if sample.verdict != "rejected" and sample.ground_truth is not None
    ]


def train_warmup(
    samples: Sequence[Sample],
    scene_dirs: Mapping[str, Path],
    settings: SFTSettings,
    out_dir: Path,
) -> TrainResult:
    """SFT on the warm-up samples for `settings.steps_per_iteration` steps (stage 'warmup')."""
    from training.iterations import SolverTrainer

    if not samples:
        raise UserError("the warm-up has no samples; use more scenes or questions per scene")
    trainer = SolverTrainer(settings, out_dir, stage="warmup")
    return trainer.train_iteration(list(samples), dict(scene_dirs), iteration=0)
