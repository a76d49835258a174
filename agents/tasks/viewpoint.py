"""Viewpoint questions in the spirit of Actial: how the camera turned or moved between two
frames, and what lies to the camera's left in a frame.

Directions are read in the first camera's level frame (forward = viewing direction on the
floor, +z up), as the geometry library's camera_motion does. Levels widen or narrow the
angle and ratio bands, add options, and (for the left-of-camera question) ask about objects
outside the frame, which the solver must remember from other frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import tools.geometry as g
from agents.records import Proposal, option_text
from agents.tasks.base import (
    LETTER_OF_ANSWER,
    CannotPose,
    LevelSettings,
    Task,
    TaskContext,
    pick,
    program_source,
)

ROTATION_PROGRAM = """
def solve(scene):
    yaw = g.camera_motion(scene.frame(FIRST), scene.frame(SECOND)).yaw_deg
    if not MIN_TURN_DEG <= abs(yaw) <= MAX_TURN_DEG:
        raise g.Ambiguous(f"a turn of {yaw:.1f} deg has no clear direction")
    if not ANGLES:
        return letter_of("left" if yaw > 0 else "right")
    answer = min(ANGLES, key=lambda text: abs(ANGLES[text] - yaw))
    if abs(ANGLES[answer] - yaw) > MAX_OFF_DEG:
        raise g.Ambiguous(f"turn of {yaw:.1f} deg is between two options")
    return letter_of(answer)
"""

MOVEMENT_PROGRAM = """
def solve(scene):
    motion = g.camera_motion(scene.frame(FIRST), scene.frame(SECOND))
    return letter_of(motion.main_direction(min_ratio=MIN_RATIO, min_m=MIN_MOVE_M))
"""

LEFT_PROGRAM = """
def solve(scene):
    frame = scene.frame(FRAME)
    heading = math.radians(g.camera_heading(frame))
    position = frame.position
    ahead = [position[0] + math.cos(heading), position[1] + math.sin(heading)]
    on_left = []
    for category in CHOICES:
        side = g.relative_direction_or_ambiguous(position, ahead, scene.unique(category), "easy", MARGIN_DEG)
        if side == "left":
            on_left.append(category)
    if len(on_left) != 1:
        raise g.Ambiguous(f"objects on the left: {on_left}")
    return letter_of(on_left[0])
"""


def _turn_text(angle: float) -> str:
    return f"{'left' if angle > 0 else 'right'}, about {abs(round(angle))} degrees"


class CameraRotation(Task):
    name = "camera_rotation"
    description = "Which way (and how far) the camera turned between two frames."
    needs_frames = True
    templates = (
        "These two images were taken by the same camera, the first before the second. From "
        "the first image to the second, did the camera turn left or right{how_far}?",
        "Between the first and the second image, which way did the camera rotate{how_far}?",
        "The camera took the first image, then turned and took the second. How did it turn"
        "{how_far}?",
    )
    levels: Mapping[int, LevelSettings] = {
        1: {"options": 2, "min_turn_deg": 60.0},
        2: {"options": 2, "min_turn_deg": 30.0, "max_turn_deg": 60.0},
        3: {"options": 2, "min_turn_deg": 0.0, "max_turn_deg": 30.0},
        4: {"options": 4, "angle_step_deg": 45.0},
        5: {"options": 4, "angle_step_deg": 20.0},
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        ctx.need_frames()
        settings = self.settings(level)
        minimum = ctx.ambiguity.camera_min_turn_deg
        step = float(settings.get("angle_step_deg", 0.0))
        low = max(float(settings.get("min_turn_deg", step)), minimum)
        high = min(float(settings.get("max_turn_deg", 180.0)), ctx.ambiguity.camera_max_turn_deg)
        pairs = _frame_pairs(ctx)
        for first, second in pairs:
            yaw = g.camera_motion(ctx.view.frame(first), ctx.view.frame(second)).yaw_deg
            if not low <= abs(yaw) < high:
                continue
            if step:
                nearest = round(yaw / step) * step
                if nearest == 0 or abs(nearest - yaw) > step / 4:
                    continue
                candidates = {
                    nearest + k * step
                    for k in (-3, -2, -1, 1, 2, 3)
                    if nearest + k * step != 0 and abs(nearest + k * step) < 180
                }
                angles = [-nearest, *ctx.rng.sample(sorted(candidates - {-nearest}), 2)]
                options = self.place_options(
                    ctx, _turn_text(nearest), [_turn_text(a) for a in angles]
                )
                angle_of = {_turn_text(a): a for a in sorted([nearest, *angles])}
                how_far = ", and by about how many degrees"
            else:
                truth = "left" if yaw > 0 else "right"
                options = self.place_options(ctx, truth, ["right" if truth == "left" else "left"])
                angle_of, how_far = {}, ""
            question, template_id = self.question(ctx, how_far=how_far)
            program = program_source(
                ROTATION_PROGRAM + LETTER_OF_ANSWER,
                FIRST=first,
                SECOND=second,
                ANGLES=angle_of,
                MIN_TURN_DEG=minimum,
                MAX_TURN_DEG=ctx.ambiguity.camera_max_turn_deg,
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
                frame_indices=[first, second],
                measured={"yaw_deg": round(yaw, 1)},
            )
        raise CannotPose("no_frame_pair_in_band", f"turns of {low:.0f}-{high:.0f} deg")


class CameraMovement(Task):
    name = "camera_movement"
    description = "The main direction the camera moved between two frames."
    needs_frames = True
    templates = (
        "These two images were taken by the same camera, the first before the second. "
        "Relative to the direction the camera faced in the first image, in which direction did "
        "it mainly move?",
        "Between the first and the second image, did the camera mainly move {choices} (relative "
        "to where it was facing in the first image)?",
        "From the first image to the second, where did the camera mostly travel, judged from "
        "the way it faced at the start?",
    )
    levels: Mapping[int, LevelSettings] = {
        1: {"options": 2, "min_ratio": 3.0},
        2: {"options": 4, "min_ratio": 3.0},
        3: {"options": 4, "min_ratio": 2.2},
        4: {"options": 4, "min_ratio": 1.8, "max_ratio": 2.2},
        5: {"options": 4, "min_ratio": 0.0, "max_ratio": 1.8},
    }
    opposite: Mapping[str, str] = {
        "forward": "backward",
        "backward": "forward",
        "left": "right",
        "right": "left",
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        ctx.need_frames()
        settings = self.settings(level)
        config = ctx.ambiguity
        low = max(float(settings["min_ratio"]), config.camera_min_ratio)
        high = float(settings.get("max_ratio", math.inf))
        for first, second in _frame_pairs(ctx):
            motion = g.camera_motion(ctx.view.frame(first), ctx.view.frame(second))
            ratio = _dominance(motion)
            if not low <= ratio < high:
                continue
            try:
                label = motion.main_direction(min_ratio=low, min_m=config.camera_min_move_m)
            except g.Ambiguous:
                continue
            if label not in self.opposite:
                continue
            others = [self.opposite[label]]
            if int(settings["options"]) == 4:
                others = [d for d in self.opposite if d != label]
            options = self.place_options(ctx, label, others)
            choices = ", ".join(option_text(o) for o in options[:-1])
            choices += f" or {option_text(options[-1])}"
            question, template_id = self.question(ctx, choices=choices)
            program = program_source(
                MOVEMENT_PROGRAM + LETTER_OF_ANSWER,
                FIRST=first,
                SECOND=second,
                MIN_RATIO=config.camera_min_ratio,
                MIN_MOVE_M=config.camera_min_move_m,
                OPTIONS=options,
            )
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                frame_indices=[first, second],
                measured={
                    "dominance_ratio": round(ratio, 2),
                    "distance_m": round(motion.distance_m, 2),
                },
            )
        raise CannotPose("no_frame_pair_in_band", f"dominance ratios {low}-{high}")


class ObjectLeftOfCamera(Task):
    name = "object_left_of_camera"
    description = "Which object lies to the camera's left in a given frame (maybe out of view)."
    needs_frames = True
    templates = (
        "In image {position} of the frames shown, which of these objects is to the left of the "
        "camera: {choices}?",
        "Think of the camera as it was when it took image {position}. Which of these objects is "
        "on its left-hand side: {choices}?",
        "When image {position} was taken, which of the following was to the camera's left "
        "(it need not be in view): {choices}?",
    )
    levels: Mapping[int, LevelSettings] = {
        1: {"choices": 2, "min_margin_deg": 45.0, "answer_in_view": "yes"},
        2: {"choices": 3, "min_margin_deg": 30.0, "answer_in_view": "yes"},
        3: {"choices": 4, "min_margin_deg": 20.0, "answer_in_view": "any"},
        4: {"choices": 4, "min_margin_deg": 15.0, "answer_in_view": "no"},
        5: {"choices": 4, "min_margin_deg": 0.0, "answer_in_view": "no"},
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        frames = ctx.need_frames()
        settings = self.settings(level)
        margin = max(float(settings["min_margin_deg"]), ctx.ambiguity.direction_margin_deg)
        n_choices = int(settings["choices"])
        in_view = str(settings["answer_in_view"])
        order = list(range(len(frames)))
        ctx.rng.shuffle(order)
        for position in order:
            frame = ctx.view.frame(frames[position])
            sides = _sides(ctx, frame, margin)
            shown = {o.instance_id for o in ctx.visible_in_frame(frame.index)}
            left = [
                o
                for o in sides["left"]
                if in_view == "any" or (o.instance_id in shown) == (in_view == "yes")
            ]
            right = sides["right"]
            if not left or len(right) < n_choices - 1:
                continue
            answer = pick(ctx, left, "left_object")
            distractors = ctx.rng.sample(right, n_choices - 1)
            options = self.place_options(ctx, answer.category, [o.category for o in distractors])
            choices = [option_text(o) for o in options]
            question, template_id = self.question(
                ctx, position=position + 1, choices=", ".join(choices)
            )
            program = program_source(
                "import math\n" + LEFT_PROGRAM + LETTER_OF_ANSWER,
                FRAME=frame.index,
                CHOICES=sorted(choices),
                MARGIN_DEG=ctx.ambiguity.direction_margin_deg,
                OPTIONS=options,
            )
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                referenced=[answer, *distractors],
                measured={"answer_shown": int(answer.instance_id in shown)},
            )
        raise CannotPose("no_left_object", f"margin {margin:.0f} deg, {n_choices} choices")


def _frame_pairs(ctx: TaskContext, limit: int = 200) -> list[tuple[int, int]]:
    """Random ordered pairs (earlier, later) of trajectory frames."""
    indices = [f.index for f in ctx.view.frames]
    pairs = [(a, b) for i, a in enumerate(indices) for b in indices[i + 1 :]]
    ctx.rng.shuffle(pairs)
    return pairs[:limit]


def _dominance(motion: g.CameraMotion) -> float:
    parts = sorted((abs(motion.forward_m), abs(motion.left_m), abs(motion.up_m)), reverse=True)
    return parts[0] / parts[1] if parts[1] > 0 else math.inf


def _sides(ctx: TaskContext, frame: g.FrameView, margin: float) -> dict[str, list[g.Object3D]]:
    """Unique visible objects clearly (beyond `margin`) on the camera's left or right."""
    heading = math.radians(g.camera_heading(frame))
    position = frame.position
    ahead = [position[0] + math.cos(heading), position[1] + math.sin(heading)]
    sides: dict[str, list[g.Object3D]] = {"left": [], "right": []}
    for obj in ctx.unique_objects:
        try:
            side = g.relative_direction_or_ambiguous(position, ahead, obj, "easy", margin)
        except g.Ambiguous:
            continue
        sides[side].append(obj)
    return sides
