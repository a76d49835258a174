"""Object-centric viewpoint pairs in the style of Actial's Viewpoint-100K.

Two photos show one object from two cameras 20-100 degrees apart around it. Three
questions, each with three options (left, right, and a "no movement" / "no rotation"
distractor that is never right, as in Actial):

- `viewpoint_camera_translation`: did the second camera move left or right, judged from
  the first camera (the sign of its sideways displacement in the first camera's level frame);
- `viewpoint_object_translation`: the same movement judged from the object, facing the way
  its front faces (the sign of the displacement along the object's own left axis);
- `viewpoint_camera_rotation`: did the camera turn left or right (the sign of the heading
  change; look-at jitter makes it differ from the orbit angle).

Levels 3-5 ask for the signed angle too (around the object for the translations, the
turn for the rotation), options a step apart. Pairs are the scene's orbit views when it
has them; a scene without them (real scans) uses walkthrough frame pairs that turn by
20-100 degrees and share a clearly visible unique object. The object-perspective question
needs an object whose front is known, so it asks about procedural scenes only.

The two geometry functions below are pasted into the programs verbatim, so the host's
choice of question and the sandbox's answer follow one definition.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass

import tools.geometry as g
from agents.records import Proposal
from agents.tasks.base import (
    LETTER_OF_ANSWER,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    program_source,
)
from scenes.procedural.catalog import FRONTED_CATEGORIES

#: Horizontal angle band of walkthrough pairs used when a scene has no orbit views (deg).
PAIR_YAW_DEG: tuple[float, float] = (20.0, 100.0)
#: Actial's distractors: never the answer, always offered.
STILL: Mapping[str, str] = {
    "camera": "no movement",
    "object": "no movement",
    "rotation": "no rotation",
}


def pair_motion(scene, first, second, instance_id, perspective):
    """(side, angle): side > 0 means left (metres; degrees for 'rotation'), angle in degrees.

    'camera': sideways displacement in the first camera's level frame, angle around the object;
    'object': displacement along the object's left (its front is local +y), same angle;
    'rotation': the camera's heading change, angle its size.
    """
    a, b = scene.frame(first), scene.frame(second)
    if perspective == "rotation":
        yaw = g.camera_motion(a, b).yaw_deg
        return yaw, abs(yaw)
    centre = scene.object(instance_id).center
    ua = (float(a.position[0] - centre[0]), float(a.position[1] - centre[1]))
    ub = (float(b.position[0] - centre[0]), float(b.position[1] - centre[1]))
    norms = math.hypot(*ua) * math.hypot(*ub)
    if norms < 1e-9:
        raise g.Ambiguous("a camera stands at the object's centre")
    cosine = max(-1.0, min(1.0, (ua[0] * ub[0] + ua[1] * ub[1]) / norms))
    angle = math.degrees(math.acos(cosine))
    if perspective == "camera":
        return g.camera_motion(a, b).left_m, angle
    front = scene.object(instance_id).rotation[:, 1]
    length = math.hypot(float(front[0]), float(front[1]))
    if length < 1e-6:
        raise g.Ambiguous("the object's front is not horizontal")
    left = (-float(front[1]) / length, float(front[0]) / length)
    moved = (float(b.position[0] - a.position[0]), float(b.position[1] - a.position[1]))
    return moved[0] * left[0] + moved[1] * left[1], angle


def viewpoint_answer(side, angle, min_side, angles, max_off):
    """The answer text: 'left'/'right', or the signed-angle option nearest the motion."""
    if abs(side) < min_side:
        raise g.Ambiguous(f"the motion ({side:.2f}) is too small to have a side")
    if not angles:
        return "left" if side > 0 else "right"
    signed = angle if side > 0 else -angle
    text = min(angles, key=lambda t: abs(angles[t] - signed))
    if abs(angles[text] - signed) > max_off:
        raise g.Ambiguous(f"{signed:.0f} deg lies between two options")
    return text


PROGRAM = (
    "import math\n\n"
    + inspect.getsource(pair_motion).replace("  # noqa: ANN001, ANN201", "")
    + "\n\n"
    + inspect.getsource(viewpoint_answer).replace("  # noqa: ANN001, ANN201", "")
    + """

def solve(scene):
    side, angle = pair_motion(scene, FIRST, SECOND, OBJECT, PERSPECTIVE)
    return letter_of(viewpoint_answer(side, angle, MIN_SIDE, ANGLES, MAX_OFF_DEG))
"""
)


@dataclass(frozen=True)
class ViewPair:
    """Two frames (first, second) that both show `obj` clearly; `orbit`: rendered around it."""

    first: int
    second: int
    obj: g.Object3D
    orbit: bool


def _off_axis(frame: g.FrameView, obj: g.Object3D) -> float:
    towards = obj.center - frame.position
    return float(towards @ frame.forward / max(float((towards @ towards) ** 0.5), 1e-9))


def _shared_object(ctx: TaskContext, first: int, second: int, fronted: bool) -> g.Object3D | None:
    """The unique object both frames show clearly, nearest to both optical axes."""
    unique = {o.instance_id: o for o in (ctx.view.unique(c) for c in ctx.view.unique_categories())}
    shown = {o.instance_id for o in ctx.visible_in_frame(first)}
    shown &= {o.instance_id for o in ctx.visible_in_frame(second)}
    shared = [unique[i] for i in sorted(shown) if i in unique]
    if fronted:
        shared = [o for o in shared if o.category in FRONTED_CATEGORIES]
    if not shared:
        return None
    a, b = ctx.view.frame(first), ctx.view.frame(second)
    return max(shared, key=lambda o: _off_axis(a, o) + _off_axis(b, o))


def view_pairs(ctx: TaskContext, fronted: bool, limit: int = 200) -> list[ViewPair]:
    """Orbit pairs when the scene has them, else walkthrough pairs turning 20-100 deg."""
    orbit = sorted(f.index for f in ctx.view.orbit_frames)
    candidates = [(orbit[i], orbit[i + 1], True) for i in range(0, len(orbit) - 1, 2)]
    if not candidates:
        walk = [f.index for f in ctx.view.frames]
        for i, a in enumerate(walk):
            for b in walk[i + 1 :]:
                yaw = abs(g.camera_motion(ctx.view.frame(a), ctx.view.frame(b)).yaw_deg)
                if PAIR_YAW_DEG[0] <= yaw <= PAIR_YAW_DEG[1]:
                    candidates.append((a, b, False))
    ctx.rng.shuffle(candidates)
    pairs = []
    for first, second, is_orbit in candidates[:limit]:
        obj = _shared_object(ctx, first, second, fronted)
        if obj is not None:
            pairs.append(ViewPair(first, second, obj, is_orbit))
    return pairs


def _angle_text(direction: str, degrees: float) -> str:
    return f"{direction}, about {abs(round(degrees))} degrees"


class _ViewpointTask(Task):
    """Shared proposing logic; subclasses set the perspective and the wording."""

    perspective: str
    needs_frames = True
    how_far: str = ", and by about how many degrees around the {object}"
    levels: Mapping[int, LevelSettings] = {
        1: {"options": 3, "min_angle_deg": 45.0},
        2: {"options": 3, "min_angle_deg": 20.0},
        3: {"options": 4, "angle_step_deg": 40.0},
        4: {"options": 4, "angle_step_deg": 30.0},
        5: {"options": 4, "angle_step_deg": 20.0},
    }

    def min_side(self, ctx: TaskContext) -> float:
        if self.perspective == "rotation":
            return ctx.ambiguity.camera_min_turn_deg
        return ctx.ambiguity.camera_min_move_m

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        ctx.need_frames()
        fronted = self.perspective == "object"
        if fronted and ctx.scene.source != "procedural":
            raise CannotPose("no_object_front", "only procedural scenes record object fronts")
        settings = self.settings(level)
        step = float(settings.get("angle_step_deg", 0.0))
        min_angle = float(settings.get("min_angle_deg", 0.0))
        min_side = self.min_side(ctx)
        for pair in view_pairs(ctx, fronted):
            try:
                side, angle = pair_motion(
                    ctx.view, pair.first, pair.second, pair.obj.instance_id, self.perspective
                )
            except g.Ambiguous:
                continue
            if abs(side) < min_side or angle < min_angle:
                continue
            if self.perspective == "rotation" and angle > ctx.ambiguity.camera_max_turn_deg:
                continue
            direction = "left" if side > 0 else "right"
            still = STILL[self.perspective]
            angles: dict[str, float] = {}
            how_far = ""
            if step:
                signed = angle if side > 0 else -angle
                nearest = round(signed / step) * step
                if nearest == 0 or abs(nearest - signed) > step / 4 or abs(nearest) >= 180:
                    continue
                sign = 1.0 if nearest > 0 else -1.0
                others = [v for v in (nearest + step, nearest - step) if v * sign > 0]
                other = ctx.rng.choice([v for v in others if abs(v) < 180] or [-nearest])
                mirror = -nearest
                angles = {
                    _angle_text("left" if v > 0 else "right", v): v
                    for v in (nearest, other, mirror)
                }
                angles[still] = 0.0
                truth = _angle_text(direction, nearest)
                options = self.place_options(ctx, truth, [t for t in angles if t != truth])
                how_far = self.how_far.format(object=pair.obj.category)
            else:
                opposite = "right" if direction == "left" else "left"
                options = self.place_options(ctx, direction, [opposite, still])
            question, template_id = self.question(ctx, object=pair.obj.category, how_far=how_far)
            program = program_source(
                PROGRAM + LETTER_OF_ANSWER,
                FIRST=pair.first,
                SECOND=pair.second,
                OBJECT=pair.obj.instance_id,
                PERSPECTIVE=self.perspective,
                MIN_SIDE=min_side,
                ANGLES=angles,
                MAX_OFF_DEG=step / 4,
                OPTIONS=options,
            )
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                referenced=[pair.obj],
                frame_indices=[pair.first, pair.second],
                measured={
                    "side": round(side, 2),
                    "angle_deg": round(angle, 1),
                    "orbit_pair": int(pair.orbit),
                },
            )
        raise CannotPose("no_view_pair", f"{self.perspective} level {level}")


class ViewpointCameraTranslation(_ViewpointTask):
    name = "viewpoint_camera_translation"
    description = "Two views of one object: did the camera move left or right (camera's view)?"
    perspective = "camera"
    templates = (
        "These two photos show the {object} from two viewpoints. Compared with the camera that "
        "took the first photo, did the camera that took the second photo move left or "
        "right{how_far}?",
        "Both images were taken looking at the {object}, the first before the second. Relative "
        "to where the first camera faced, which way did the camera move for the second "
        "image{how_far}?",
        "Going from the first view of the {object} to the second, did the camera shift to its "
        "own left or to its own right{how_far}?",
    )


class ViewpointObjectTranslation(_ViewpointTask):
    name = "viewpoint_object_translation"
    description = "Two views of one object: did the camera move to the object's left or right?"
    perspective = "object"
    templates = (
        "These two photos show the {object} from two viewpoints. From the {object}'s "
        "perspective, facing the way its front faces, did the camera that took the second "
        "photo move to its left or to its right{how_far}?",
        "Imagine you are the {object}, looking out of its front. From the first image to the "
        "second, did the camera move to your left or to your right{how_far}?",
        "Seen from the {object} itself (facing where its front points), which way did the "
        "camera move between the first and the second image{how_far}?",
    )


class ViewpointCameraRotation(_ViewpointTask):
    name = "viewpoint_camera_rotation"
    description = "Two views of one object: did the camera rotate left or right?"
    perspective = "rotation"
    how_far = ", and by about how many degrees"
    templates = (
        "These two photos show the {object} from two viewpoints. Compared with the camera that "
        "took the first photo, did the camera that took the second photo rotate to the left or "
        "to the right{how_far}?",
        "Between the first and the second image of the {object}, which way did the camera "
        "turn{how_far}?",
        "From the first view of the {object} to the second, did the camera's viewing direction "
        "rotate left or right{how_far}?",
    )
