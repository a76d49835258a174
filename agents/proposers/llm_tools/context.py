"""What every proposer tool can see: the scene of this attempt, passed as LangGraph runtime context.

Tools never read globals: the agent graph is invoked with `context=ToolContext(...)` and a
tool declares `runtime: ToolRuntime[ToolContext]` to get it (LangGraph injects it and hides
it from the model's schema). A tool reports a mistake the model can fix by raising
`ToolError("what was wrong; what to do")`; the agent's tool node turns that, and any other
exception, into an error message for the model instead of letting it escape the graph.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.tools import ToolException

import tools.geometry as g
from scenes.schema import Scene
from tools.sandbox.base import Sandbox


class ToolError(ToolException):
    """A tool call the model can fix: the message says what was wrong and what to do."""


@dataclass(frozen=True)
class TaskRequest:
    """The arm an attempt works on: which task type, at which difficulty level."""

    question_type: str
    level: int


@dataclass
class ToolSettings:
    """Knobs of the proposer tools (part of the LLM proposer's config)."""

    multimodal: bool = field(
        default=True,
        metadata={"help": "view_frames returns images (True) or a text description (False)."},
    )
    frame_size: int = field(
        default=448, metadata={"help": "Longest side (px) of frames shown to the model."}
    )
    max_frames_per_view: int = field(
        default=4, metadata={"help": "Frames one view_frames call may show."}
    )
    program_timeout_s: float = field(
        default=10.0, metadata={"help": "Time limit of run_program / submit_proposal runs (s)."}
    )
    program_memory_mb: int = field(
        default=1024, metadata={"help": "Memory limit of run_program / submit_proposal runs."}
    )
    num_solver_frames: int = field(
        default=16, metadata={"help": "Frames the solver sees when a proposal names none."}
    )
    max_list_items: int = field(
        default=60, metadata={"help": "Longest list a query tool returns before summarising."}
    )


class QuestionRegistry:
    """The questions already submitted this round (thread-safe), so none is asked twice."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def add_if_new(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class ToolContext:
    """One attempt's world: the scene (and its folder for frame images), the sandbox, the request."""

    scene: Scene
    sandbox: Sandbox | None = None
    scene_dir: Path | None = None
    request: TaskRequest | None = None
    settings: ToolSettings = field(default_factory=ToolSettings)
    proposer_id: str = "llm"
    questions: QuestionRegistry = field(default_factory=QuestionRegistry)
    view: g.SceneView = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.view = g.SceneView(self.scene)

    def object(self, instance_id: int) -> g.Object3D:
        """The object, or a ToolError listing valid ids."""
        try:
            return self.view.object(instance_id)
        except (KeyError, ValueError, TypeError, OverflowError):
            ids = sorted(o.instance_id for o in self.view.objects)
            raise ToolError(
                f"there is no object with instance_id {instance_id!r}; valid ids are "
                f"{_id_ranges(ids)} (call list_objects to see them)"
            ) from None

    def frame(self, index: int) -> g.FrameView:
        """The frame, or a ToolError giving the valid range."""
        if not self.view.frames:
            raise ToolError(f"scene {self.scene.id} has no camera frames; ask about 3D layout only")
        try:
            return self.view.frame(index)
        except (KeyError, ValueError, TypeError, OverflowError):
            indices = [f.index for f in self.view.frames]
            raise ToolError(
                f"there is no frame {index!r}; frame indices are {_id_ranges(indices)}"
            ) from None

    def require_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            raise ToolError("no sandbox is configured to run programs in this session")
        return self.sandbox


def _id_ranges(values: list[int]) -> str:
    """'1-4, 7, 9-10' for [1, 2, 3, 4, 7, 9, 10]."""
    if not values:
        return "(none)"
    parts: list[str] = []
    start = previous = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if value is not None:
            start = previous = value
    return ", ".join(parts)


def fmt(value: float, digits: int = 2) -> str:
    """A number as the tools print it: rounded, no trailing noise."""
    return f"{float(value):.{digits}f}"


def fmt_vec(values: object, digits: int = 2) -> str:
    return "(" + ", ".join(fmt(v, digits) for v in values) + ")"  # type: ignore[attr-defined]
