"""The task library: one module per task family, one registry line per task type.

Adding a task type: write a `Task` subclass in its own module (see docs/tasks.md) and add
one line to `TASKS` below. The proposer, the CLI and the docs table pick it up from here.
"""

from __future__ import annotations

from agents.tasks.appearance_order import AppearanceOrder
from agents.tasks.base import LEVELS, AmbiguityConfig, CannotPose, Task, TaskContext
from agents.tasks.comparison import CameraRelDistance, HeightComparison
from agents.tasks.counting import ObjectCounting
from agents.tasks.measurement import ObjectAbsDistance, ObjectSize, RoomSize
from agents.tasks.relative_direction import RelDirectionEasy, RelDirectionHard, RelDirectionMedium
from agents.tasks.relative_distance import ObjectRelDistance
from agents.tasks.route_planning import RoutePlanning
from agents.tasks.viewpoint import CameraMovement, CameraRotation, ObjectLeftOfCamera
from agents.tasks.viewpoint_pairs import (
    ViewpointCameraRotation,
    ViewpointCameraTranslation,
    ViewpointObjectTranslation,
)

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        ObjectCounting(),
        ObjectAbsDistance(),
        ObjectSize(),
        RoomSize(),
        ObjectRelDistance(),
        RelDirectionEasy(),
        RelDirectionMedium(),
        RelDirectionHard(),
        RoutePlanning(),
        AppearanceOrder(),
        CameraRotation(),
        CameraMovement(),
        ObjectLeftOfCamera(),
        HeightComparison(),
        CameraRelDistance(),
        ViewpointCameraTranslation(),
        ViewpointObjectTranslation(),
        ViewpointCameraRotation(),
    )
}

__all__ = ["LEVELS", "TASKS", "AmbiguityConfig", "CannotPose", "Task", "TaskContext"]
