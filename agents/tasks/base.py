"""What every task template shares: the Task base class, its context, ambiguity thresholds.

A task turns one scene into one `Proposal`: it picks objects host-side (with the geometry
library, so it can aim at a difficulty level and build options), writes the question from
one of its paraphrased templates, and emits a ground-truth program. The program computes
the answer itself inside the sandbox and applies the same ambiguity rules (raising
`geometry.Ambiguous`), so the rules hold for any proposer's program, not just ours.

When a task cannot pose a question on a scene at a level it raises `CannotPose` with a
short reason code; the proposer counts those and tries another scene.
"""

from __future__ import annotations

import ast
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import tools.geometry as g
import tools.geometry.rules as rules
from agents.records import AnswerKind, Proposal
from agents.tasks.options import LetterBalancer, place_answer
from scenes.sampling import uniform_positions
from scenes.schema import Scene

LevelSettings = dict[str, float | int | str]
LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)


class CannotPose(Exception):
    """The task has no question of this level on this scene; `reason` is a short code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass
class AmbiguityConfig:
    """Margins below which an answer is too close to call (VSI-Bench's rules and ours)."""

    rel_distance_margin_m: float = field(
        default=rules.REL_DISTANCE_MARGIN_M,
        metadata={"help": "Option distances closer than this are ambiguous (m)."},
    )
    rel_distance_margin_large_room_m: float = field(
        default=rules.REL_DISTANCE_MARGIN_LARGE_ROOM_M,
        metadata={"help": "The same margin in rooms larger than large_room_area_m2."},
    )
    large_room_area_m2: float = field(
        default=rules.LARGE_ROOM_AREA_M2,
        metadata={"help": "Rooms above this floor area use the larger margin."},
    )
    direction_margin_deg: float = field(
        default=rules.DIRECTION_MARGIN_DEG,
        metadata={"help": "Directions closer than this to a label boundary."},
    )
    direction_min_separation_m: float = field(
        default=rules.DIRECTION_MIN_SEPARATION_M,
        metadata={"help": "Objects of a direction question closer than this (m)."},
    )
    direction_max_separation_m: float = field(
        default=rules.DIRECTION_MAX_SEPARATION_M,
        metadata={"help": "Objects of a direction question farther than this (m)."},
    )
    appearance_min_gap_s: float = field(
        default=rules.APPEARANCE_MIN_GAP_S,
        metadata={"help": "First appearances closer in time than this (s)."},
    )
    min_abs_distance_m: float = field(
        default=0.2, metadata={"help": "Absolute distances below this are not asked (VSI-Bench)."}
    )
    route_min_turn_deg: float = field(
        default=rules.ROUTE_MIN_TURN_DEG,
        metadata={"help": "Route turns smaller than this read as 'go straight'."},
    )
    route_min_leg_m: float = field(
        default=rules.ROUTE_MIN_LEG_M,
        metadata={"help": "Route legs shorter than this are not walkable steps (m)."},
    )
    camera_min_turn_deg: float = field(
        default=10.0, metadata={"help": "Camera turns smaller than this have no direction."}
    )
    camera_max_turn_deg: float = field(
        default=150.0,
        metadata={"help": "Camera turns larger than this could have gone either way round."},
    )
    camera_min_move_m: float = field(
        default=0.3, metadata={"help": "Camera moves shorter than this have no direction (m)."}
    )
    camera_min_ratio: float = field(
        default=1.5, metadata={"help": "Main movement must be this many times the second."}
    )
    height_min_ratio: float = field(
        default=1.1, metadata={"help": "Tallest object must be this many times the runner-up."}
    )
    height_min_gap_m: float = field(
        default=0.05, metadata={"help": "... and this much taller in absolute terms (m)."}
    )
    route_clearance_m: float = field(
        default=rules.WALK_CLEARANCE_M,
        metadata={"help": "A straight route leg passing closer than this to furniture is blocked."},
    )

    def distance_margin(self, room_area_m2: float) -> float:
        """VSI-Bench's near-tie margin for distances: 15 cm, 30 cm in rooms over 40 m^2."""
        if room_area_m2 > self.large_room_area_m2:
            return self.rel_distance_margin_large_room_m
        return self.rel_distance_margin_m


@dataclass
class TaskContext:
    """One scene as a task sees it: the scene, its geometry view, the solver's frames."""

    scene: Scene
    view: g.SceneView
    rng: random.Random
    ambiguity: AmbiguityConfig
    letters: LetterBalancer
    solver_frames: list[int] | None = None

    @classmethod
    def build(
        cls,
        scene: Scene,
        *,
        rng: random.Random,
        ambiguity: AmbiguityConfig | None = None,
        letters: LetterBalancer | None = None,
        num_solver_frames: int = 16,
        view: g.SceneView | None = None,
    ) -> TaskContext:
        return cls(
            scene=scene,
            view=view or g.SceneView(scene),
            rng=rng,
            ambiguity=ambiguity or AmbiguityConfig(),
            letters=letters or LetterBalancer(),
            solver_frames=uniform_frames(scene, num_solver_frames),
        )

    @property
    def has_frames(self) -> bool:
        return bool(self.solver_frames)

    @cached_property
    def visible_ids(self) -> frozenset[int] | None:
        """Instances clearly visible (`FrameView.clearly_visible`) in the solver's frames;
        None for metadata-only scenes (no check)."""
        if not self.solver_frames:
            return None
        seen: set[int] = set()
        for index in self.solver_frames:
            frame = self.view.frame(index)
            seen.update(i for i in frame.visible if frame.clearly_visible(i))
        return frozenset(seen)

    def is_visible(self, obj: g.Object3D) -> bool:
        return self.visible_ids is None or obj.instance_id in self.visible_ids

    def visible_in_frame(self, frame_index: int) -> list[g.Object3D]:
        """Objects clearly visible in one frame, by instance id."""
        frame = self.view.frame(frame_index)
        return [
            o for o in self.view.visible_in(frame_index) if frame.clearly_visible(o.instance_id)
        ]

    @cached_property
    def unique_objects(self) -> list[g.Object3D]:
        """Objects that are the only one of their category and visible: safe to call 'the X'."""
        return [
            self.view.unique(c)
            for c in self.view.unique_categories()
            if self.is_visible(self.view.unique(c))
        ]

    @cached_property
    def visible_categories(self) -> list[str]:
        """Categories with every instance visible (or any scene without frames)."""
        return [
            c
            for c in self.view.categories()
            if self.view.objects_of(c) and all(self.is_visible(o) for o in self.view.objects_of(c))
        ]

    @property
    def distance_margin(self) -> float:
        return self.ambiguity.distance_margin(g.floor_area(self.view))

    def need_frames(self) -> list[int]:
        if not self.solver_frames:
            raise CannotPose("needs_frames", f"scene {self.scene.id} has no frames")
        return self.solver_frames


def uniform_frames(scene: Scene, count: int) -> list[int] | None:
    """`count` frame indices spread over the trajectory by the project's one sampling rule
    (scenes/sampling.py, as lmms-eval samples VSI-Bench); None without frames."""
    indices = sorted(f.index for f in scene.walkthrough_frames)
    if not indices:
        return None
    return [indices[p] for p in uniform_positions(len(indices), count)]


def program_source(body: str, **constants: Any) -> str:
    """A ground-truth program: the geometry import, constants as literals, then the body."""
    lines = ["import geometry as g", ""]
    lines += [f"{name} = {value!r}" for name, value in constants.items()]
    return "\n".join(lines) + "\n\n" + body.strip() + "\n"


#: Maps a computed answer text to its option letter inside a program.
LETTER_OF_ANSWER = """
def letter_of(answer):
    for option in OPTIONS:
        letter, _, text = option.partition(". ")
        if text == str(answer):
            return letter
    raise ValueError(f"answer {answer!r} is not among the options {OPTIONS}")
"""

#: Picks the option nearest to a computed number inside a program.
NEAREST_OPTION = """
def nearest_letter(value):
    numbers = [float(option.partition(". ")[2]) for option in OPTIONS]
    order = sorted(range(len(numbers)), key=lambda i: abs(numbers[i] - value))
    return OPTIONS[order[0]].partition(". ")[0]
"""


class Task(ABC):
    """A question family member: one `question_type`, five difficulty levels, paraphrases.

    Subclasses set the class attributes and implement `propose`; `LEVELS_TABLE` maps each
    level to the settings it uses (recorded in `Proposal.difficulty`).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    answer_kinds: ClassVar[tuple[AnswerKind, ...]] = ("multiple_choice",)
    templates: ClassVar[tuple[str, ...]]
    levels: ClassVar[Mapping[int, LevelSettings]]
    needs_frames: ClassVar[bool] = False
    answer_decimals: ClassVar[int | None] = None  # numeric answers: VSI-Bench's rounding

    @abstractmethod
    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        """One proposal at `level` on `ctx.scene`, or raise CannotPose."""

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str] | None:
        """The quantities this task's level bands bound (`gap_m` for `min_gap_m`, ...),
        measured from the scene and the program's constants (`agents/tasks/levels.py`);
        None when the task checks only the answer format and the counts."""
        return None

    def settings(self, level: int) -> LevelSettings:
        if level not in self.levels:
            raise ValueError(f"{self.name} has levels {sorted(self.levels)}, not {level}")
        return dict(self.levels[level])

    def question(self, ctx: TaskContext, **fields: Any) -> tuple[str, str]:
        """Fill one paraphrase (chosen by the context's rng); returns (text, template id)."""
        index = ctx.rng.randrange(len(self.templates))
        return self.templates[index].format(**fields), f"{self.name}/{index}"

    def place_options(
        self, ctx: TaskContext, correct: str, distractors: Sequence[str]
    ) -> list[str]:
        """Lettered options with `correct` at this task's least-used letter so far."""
        return place_answer(correct, distractors, key=self.name, rng=ctx.rng, letters=ctx.letters)

    def proposal(
        self,
        ctx: TaskContext,
        level: int,
        *,
        question: str,
        template_id: str,
        program: str,
        options: Sequence[str] = (),
        referenced: Iterable[g.Object3D] = (),
        frame_indices: Sequence[int] | None = None,
        measured: Mapping[str, float | int | str] | None = None,
    ) -> Proposal:
        """Assemble the Proposal; `measured` adds the realised gaps/ratios to the settings."""
        difficulty = self.settings(level)
        difficulty.update(measured or {})
        frames = ctx.solver_frames if frame_indices is None else list(frame_indices)
        return Proposal(
            scene_id=ctx.scene.id,
            question_type=self.name,
            question=question,
            options=list(options),
            answer_kind="multiple_choice" if options else "numeric",
            program=program,
            level=level,
            difficulty=difficulty,
            frame_indices=frames,
            referenced_instances=sorted({o.instance_id for o in referenced}),
            template_id=template_id,
        )


def pick(ctx: TaskContext, items: Sequence[Any], what: str) -> Any:
    """A random item, or CannotPose('no_<what>') when there is none."""
    if not items:
        raise CannotPose(f"no_{what}", f"scene {ctx.scene.id}")
    return items[ctx.rng.randrange(len(items))]


def program_constants(program: str) -> dict[str, Any]:
    """The literal top-level constants of a program (`NAME = literal`), for audits and tests."""
    constants: dict[str, Any] = {}
    for node in ast.parse(program).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    constants[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return constants
