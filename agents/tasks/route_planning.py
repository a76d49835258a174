"""route_planning: fill in the turns of a walk between unique objects (VSI-Bench's format).

A route starts at object A facing object B and goes "forward until" each next object; at
every object after the first leg the walker turns left, right or back (back = 135 degrees
or more, as in relative direction). Turns smaller than `route_min_turn_deg` would read as
going straight, and turns within `direction_margin_deg` of 135 degrees could be either, so
both are ambiguous. Every leg is walked straight, centre to centre, and must be clear:
no floor-standing furniture within `route_clearance_m` (`geometry.blocking_objects`, the
obstacle rule of `geometry.free_space`). Levels lengthen the route and, from level 4, use distractors that
differ from the truth in a single turn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import product
from typing import Any

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

TURNS = ("Turn Left", "Turn Right", "Turn Back")

PROGRAM = """
def turn(previous, here, following):
    ahead = [2 * here.center[0] - previous.center[0], 2 * here.center[1] - previous.center[1]]
    direction = g.relative_direction(here, ahead, following, "medium")
    angle = abs(direction.angle_deg)
    if angle < MIN_TURN_DEG or abs(angle - 135.0) < MARGIN_DEG:
        raise g.Ambiguous(f"turn of {direction.angle_deg:.1f} deg at the {here.category}")
    return {"left": "Turn Left", "right": "Turn Right", "back": "Turn Back"}[direction.label]


def solve(scene):
    stops = [scene.unique(c) for c in ROUTE]
    for a, b in zip(stops, stops[1:]):
        if g.center_distance(a, b) < MIN_LEG_M:
            raise g.Ambiguous(f"{a.category} and {b.category} are too close for a leg")
    g.check_legs_clear(scene, stops, CLEARANCE_M)
    turns = [turn(a, b, c) for a, b, c in zip(stops, stops[1:], stops[2:])]
    return letter_of(", ".join(turns))
"""


class RoutePlanning(Task):
    name = "route_planning"
    description = "Which turns a route between unique objects takes."
    templates = (
        "You are a robot beginning at the {start} and facing the {facing}. You want to navigate to "
        "the {goal}. You will perform the following actions (Note: for each [please fill in], "
        "choose either 'turn back,' 'turn left,' or 'turn right.'): {actions} You have reached "
        "the final destination.",
        "Starting at the {start} and facing the {facing}, you walk to the {goal} by following "
        "these steps (for each [please fill in], choose 'turn back,' 'turn left,' or 'turn "
        "right.'): {actions} You have reached the final destination.",
    )
    levels: Mapping[int, LevelSettings] = {
        1: {"turns": 1, "distractors": "random"},
        2: {"turns": 2, "distractors": "random"},
        3: {"turns": 3, "distractors": "random"},
        4: {"turns": 3, "distractors": "one turn different"},
        5: {"turns": 4, "distractors": "one turn different"},
    }

    def propose(self, ctx: TaskContext, level: int) -> Proposal:
        settings = self.settings(level)
        n_turns = int(settings["turns"])
        objects = ctx.unique_objects
        if len(objects) < n_turns + 2:
            raise CannotPose("too_few_unique_objects", f"{len(objects)} for {n_turns} turns")
        for _ in range(40):
            walk = self._walk(ctx, objects, n_turns + 2)
            if walk is None:
                continue
            route, turns = walk
            truth = ", ".join(turns)
            distractors = self._distractors(ctx, turns, near=level >= 4)
            options = self.place_options(ctx, truth, distractors)
            question, template_id = self.question(
                ctx,
                start=route[0].category,
                facing=route[1].category,
                goal=route[-1].category,
                actions=self._actions(route),
            )
            program = program_source(
                PROGRAM + LETTER_OF_ANSWER,
                ROUTE=[o.category for o in route],
                MIN_TURN_DEG=ctx.ambiguity.route_min_turn_deg,
                MARGIN_DEG=ctx.ambiguity.direction_margin_deg,
                MIN_LEG_M=ctx.ambiguity.route_min_leg_m,
                CLEARANCE_M=ctx.ambiguity.route_clearance_m,
                OPTIONS=options,
            )
            return self.proposal(
                ctx,
                level,
                question=question,
                template_id=template_id,
                program=program,
                options=options,
                referenced=route,
                measured={"route_objects": len(route)},
            )
        raise CannotPose("no_clear_route", f"no route with {n_turns} clear turns")

    def measure_level(
        self,
        view: g.SceneView,
        proposal: Proposal,
        constants: Mapping[str, Any],
        answer: str | None = None,
    ) -> dict[str, float | int | str]:
        """turns: the stops of ROUTE after the first leg, else the numbered blanks
        ("2. [please fill in]") the question asks the solver to fill in."""
        if "ROUTE" in constants:
            return {"turns": max(len(constants["ROUTE"]) - 2, 0)}
        return {"turns": len(re.findall(r"\d+\.\s*\[please fill in\]", proposal.question.lower()))}

    def _walk(
        self, ctx: TaskContext, objects: list[g.Object3D], length: int
    ) -> tuple[list[g.Object3D], list[str]] | None:
        """A random route of `length` distinct objects and its turns (all clear), or None."""
        route = [ctx.rng.choice(objects)]
        turns: list[str] = []
        while len(route) < length:
            options: list[tuple[g.Object3D, str | None]] = []
            for obj in objects:
                if obj in route:
                    continue
                if g.center_distance(route[-1], obj) < ctx.ambiguity.route_min_leg_m:
                    continue
                if g.blocking_objects(ctx.view, route[-1], obj, ctx.ambiguity.route_clearance_m):
                    continue
                turn = self._turn(ctx, route[-2], route[-1], obj) if len(route) >= 2 else None
                if len(route) >= 2 and turn is None:
                    continue
                options.append((obj, turn))
            if not options:
                return None
            obj, turn = ctx.rng.choice(options)
            route.append(obj)
            if turn is not None:
                turns.append(turn)
        return route, turns

    def _turn(
        self, ctx: TaskContext, previous: g.Object3D, here: g.Object3D, following: g.Object3D
    ) -> str | None:
        ahead = 2 * here.center[:2] - previous.center[:2]
        try:
            direction = g.relative_direction(here, ahead, following, "medium")
        except g.Ambiguous:
            return None
        angle = abs(direction.angle_deg)
        if angle < ctx.ambiguity.route_min_turn_deg:
            return None
        if abs(angle - 135.0) < ctx.ambiguity.direction_margin_deg:
            return None
        return {"left": TURNS[0], "right": TURNS[1], "back": TURNS[2]}[direction.label]

    def _actions(self, route: list[g.Object3D]) -> str:
        """VSI-Bench's step list: no period after a step, one after the last."""
        steps = [f"Go forward until the {route[1].category}"]
        for stop in route[2:]:
            steps += ["[please fill in]", f"Go forward until the {stop.category}"]
        return " ".join(f"{i}. {step}" for i, step in enumerate(steps, start=1)) + "."

    def _distractors(self, ctx: TaskContext, turns: list[str], *, near: bool) -> list[str]:
        truth = tuple(turns)
        if near:
            pool = []
            for i, current in enumerate(turns):
                for other in TURNS:
                    if other != current:
                        pool.append((*tuple(turns[:i]), other, *tuple(turns[i + 1 :])))
        else:
            pool = [p for p in product(TURNS, repeat=len(turns)) if p != truth]
        chosen = ctx.rng.sample(pool, min(3, len(pool)))
        return [", ".join(p) for p in chosen]
