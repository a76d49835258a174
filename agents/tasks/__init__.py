"""The task library: one module per task family, one registry line per task type.

Adding a task type: write a `Task` subclass in its own module, add one line (and its import)
at the end of the tuple below, and one row to the table in docs/tasks.md; that page's
"Adding a task type" is the whole checklist, and a test follows it word for word. The
proposer, the CLI and the curriculum pick the task up from here; ProcSpatial does not
(each of its versions pins its own list, `PROCSPATIAL_TASKS`).
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
