"""The ambiguity rules live in the programs, so they hold whoever proposes: near ties,
near boundaries, near-simultaneous appearances and non-unique objects all come back from
the sandbox as 'ambiguous', and clear cases as answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.tasks import appearance_order, comparison, relative_direction, relative_distance
from agents.tasks.base import LETTER_OF_ANSWER, AmbiguityConfig, program_source
from scenes.schema import CameraIntrinsics, Frame, OrientedBox, Room, Scene, SceneObject
from tools.sandbox import ExecutionResult, make_sandbox

CONFIG = AmbiguityConfig()
IDENTITY_POSE = ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 1.5), (0, 0, 0, 1.0))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[object]:
    with make_sandbox("local", workers=2) as runner:
        yield runner


def _scene(
    objects: list[tuple[str, tuple[float, float, float]]],
    side: float = 5.0,
    visible_by_frame: list[dict[int, int]] | None = None,
) -> Scene:
    """Cubes of 0.2 m at the given centres in a square room of `side` metres."""
    intrinsics = CameraIntrinsics(width=100, height=100, fx=50, fy=50, cx=50, cy=50)
    frames = tuple(
        Frame(
            index=i,
            timestamp=0.5 * i,
            intrinsics=intrinsics,
            camera_to_world=IDENTITY_POSE,
            visible=v,
        )
        for i, v in enumerate(visible_by_frame or [])
    )
    return Scene(
        id="ambiguity",
        source="procedural",
        room=Room(
            floor_polygon=((0, 0), (side, 0), (side, side), (0, side)), height=2.5, area=side * side
        ),
        objects=tuple(
            SceneObject(
                instance_id=i, category=c, box=OrientedBox(center=xyz, extents=(0.2, 0.2, 0.2))
            )
            for i, (c, xyz) in enumerate(objects, start=1)
        ),
        frames=frames,
    )


def _run(sandbox: object, body: str, scene: Scene, **constants: object) -> ExecutionResult:
    return sandbox.run(program_source(body + LETTER_OF_ANSWER, **constants), scene)


def _rel_distance(sandbox: object, scene: Scene) -> ExecutionResult:
    return _run(
        sandbox,
        relative_distance.PROGRAM,
        scene,
        PRIMARY="bed",
        CHOICES=["chair", "lamp"],
        OPTIONS=["A. chair", "B. lamp"],
        MARGIN=CONFIG.rel_distance_margin_m,
        MARGIN_LARGE_ROOM=CONFIG.rel_distance_margin_large_room_m,
        LARGE_ROOM_M2=CONFIG.large_room_area_m2,
    )


def test_relative_distance_margins_depend_on_room_size(sandbox: object) -> None:
    # Box gaps: chair 0.8 m, lamp 1.0 m from the bed: 20 cm apart.
    layout = [("bed", (1.0, 1.0, 0.1)), ("chair", (2.0, 1.0, 0.1)), ("lamp", (1.0, 2.2, 0.1))]
    small = _rel_distance(sandbox, _scene(layout, side=5.0))  # 25 m^2: 15 cm margin
    assert small.ok and small.value == "A"
    large = _rel_distance(sandbox, _scene(layout, side=7.0))  # 49 m^2: 30 cm margin
    assert large.error_kind.value == "ambiguous"
    near_tie = [("bed", (1.0, 1.0, 0.1)), ("chair", (2.0, 1.0, 0.1)), ("lamp", (1.0, 2.1, 0.1))]
    assert _rel_distance(sandbox, _scene(near_tie)).error_kind.value == "ambiguous"


def test_primary_object_must_be_unique(sandbox: object) -> None:
    layout = [("bed", (1.0, 1.0, 0.1)), ("bed", (4.0, 4.0, 0.1)), ("chair", (2.0, 1.0, 0.1))]
    layout.append(("lamp", (1.0, 3.0, 0.1)))
    result = _rel_distance(sandbox, _scene(layout))
    assert result.error_kind.value == "ambiguous" and "not unique" in result.error_message


def _direction(sandbox: object, query: tuple[float, float, float]) -> ExecutionResult:
    scene = _scene([("bed", (1.0, 1.0, 0.1)), ("tv", (3.0, 1.0, 0.1)), ("lamp", query)])
    return _run(
        sandbox,
        relative_direction.PROGRAM,
        scene,
        STANDING="bed",
        FACING="tv",
        QUERY="lamp",
        LEVEL="easy",
        MARGIN_DEG=CONFIG.direction_margin_deg,
        MIN_SEPARATION=CONFIG.direction_min_separation_m,
        MAX_SEPARATION=CONFIG.direction_max_separation_m,
        OPTIONS=["A. left", "B. right"],
    )


def test_direction_near_a_boundary_is_ambiguous(sandbox: object) -> None:
    assert _direction(sandbox, (2.0, 2.5, 0.1)).value == "A"  # 56 degrees to the left
    assert _direction(sandbox, (2.0, 0.0, 0.1)).value == "B"  # 45 degrees to the right
    nearly_ahead = _direction(sandbox, (3.0, 1.25, 0.1))  # 7 degrees off the facing line
    assert nearly_ahead.error_kind.value == "ambiguous"


def _appearance(sandbox: object, second_frame: int) -> ExecutionResult:
    visible = [{} for _ in range(6)]
    visible[0] = {1: 500}
    visible[second_frame] = {2: 500}
    scene = _scene([("bed", (1.0, 1.0, 0.1)), ("tv", (3.0, 1.0, 0.1))], visible_by_frame=visible)
    return _run(
        sandbox,
        appearance_order.PROGRAM,
        scene,
        CATEGORIES=["bed", "tv"],
        FRAMES=list(range(6)),
        MIN_GAP_S=CONFIG.appearance_min_gap_s,
        OPTIONS=["A. tv, bed", "B. bed, tv"],
    )


def test_appearances_too_close_in_time_are_ambiguous(sandbox: object) -> None:
    assert _appearance(sandbox, second_frame=4).value == "B"  # 2 s apart
    assert _appearance(sandbox, second_frame=1).error_kind.value == "ambiguous"  # 0.5 s


def test_height_near_tie_is_ambiguous(sandbox: object) -> None:
    def run(tv_height: float) -> ExecutionResult:
        scene = _scene([("bed", (1.0, 1.0, 0.1))])
        tv = SceneObject(
            instance_id=9,
            category="tv",
            box=OrientedBox(center=(3.0, 3.0, tv_height / 2), extents=(0.5, 0.1, tv_height)),
        )
        scene = scene.model_copy(update={"objects": (*scene.objects, tv)})
        return _run(
            sandbox,
            comparison.HEIGHT_PROGRAM,
            scene,
            CHOICES=["bed", "tv"],
            MIN_RATIO=CONFIG.height_min_ratio,
            MIN_GAP_M=CONFIG.height_min_gap_m,
            OPTIONS=["A. bed", "B. tv"],
        )

    assert run(0.5).value == "B"
    assert run(0.21).error_kind.value == "ambiguous"
