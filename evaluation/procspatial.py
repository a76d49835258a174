"""ProcSpatial: the held-out benchmark built from procedural scenes, and its loader.

A built benchmark is a folder:

    {root}/manifest.json              version, seeds, settings, counts, fingerprint
    {root}/procspatial.parquet        rows in VSI-Bench's format plus extra columns
    {root}/procspatial/{scene_name}/  scene.json + frames/ (one procedural scene each)

so `{root}/{dataset}/{scene_name}` mirrors VSI-Bench's `{root}/{dataset}/{scene_name}.mp4`.
Rows carry `answer_kind`, `level` and `frame_indices`: the frames a question's ground
truth was computed and checked on (appearance order, for one, depends on them), so
those frames, not a fresh uniform sample, are what the model sees. The builder is in
`evaluation/procspatial_build.py`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field, ValidationError

from agents.records import RELATIVE_DIRECTION_LEVELS, VSIBENCH_TASKS, AnswerKind
from common.errors import UserError, field_problem
from evaluation.metrics import MULTIPLE_CHOICE_TASKS, NUMERIC_TASKS
from evaluation.records import BenchmarkRow
from evaluation.vsibench import load_benchmark_rows, select_rows
from scenes.sampling import uniform_positions
from scenes.schema import Scene

NAME = "procspatial"
#: The builder recipe's version: bump it whenever a change could alter any row.
PROCSPATIAL_VERSION = "2"

#: The task types each buildable version asks, in the order its rows list them. A version's
#: list never changes, so registering a new task type leaves every existing benchmark as it
#: was; a task joins ProcSpatial only in a new version (docs/tasks.md, "Adding a task type").
#: Drop a version from here once this code no longer rebuilds its rows identically.
PROCSPATIAL_TASKS: dict[str, tuple[str, ...]] = {
    "2": (
        "object_counting",
        "object_abs_distance",
        "object_size_estimation",
        "room_size_estimation",
        "object_rel_distance",
        "object_rel_direction_easy",
        "object_rel_direction_medium",
        "object_rel_direction_hard",
        "route_planning",
        "obj_appearance_order",
        "camera_rotation",
        "camera_movement",
        "object_left_of_camera",
        "object_height_comparison",
        "object_camera_rel_distance",
        "viewpoint_camera_translation",
        "viewpoint_object_translation",
        "viewpoint_camera_rotation",
    ),
}
ROWS_FILE = "procspatial.parquet"
MANIFEST_FILE = "manifest.json"

#: The question types VSI-Bench defines (relative direction as its three levels).
VSIBENCH_QUESTION_TYPES: tuple[str, ...] = tuple(
    level
    for task in VSIBENCH_TASKS
    for level in (RELATIVE_DIRECTION_LEVELS if task == "object_rel_direction" else (task,))
)


def benchmark_question_type(task: str, answer_kind: AnswerKind) -> str:
    """The row's question_type: the task's, unless the task was asked in the other answer
    kind than VSI-Bench scores it with (our numeric tasks ask levels 1-3 as multiple
    choice); then it is a task of its own, `object_counting_choice`, never mixed into
    VSI-Bench's `object_counting` score."""
    if task in NUMERIC_TASKS and answer_kind == "multiple_choice":
        return f"{task}_choice"
    if task in MULTIPLE_CHOICE_TASKS and answer_kind == "numeric":
        return f"{task}_numeric"
    return task


class ArmCount(BaseModel):
    """Rows asked for and rows built for one (task type, level) arm."""

    task: str
    level: int
    quota: int = Field(description="The uniform share of `size` for this arm.")
    rows: int = Field(
        description="Rows built (quota plus any refill from the task's other levels)."
    )


class ProcSpatialManifest(BaseModel):
    """What a ProcSpatial folder holds and how it was built; results cite it."""

    name: str = NAME
    version: str
    fingerprint: str = Field(description="sha256 of the rows as canonical JSON (first 16 hex).")
    size: int = Field(description="Rows asked for.")
    num_rows: int
    seed_base: int
    num_scenes: int
    walkthrough_frames: int
    width: int
    height: int
    question_frames: int = Field(description="Frames per question (the model sees exactly these).")
    vsibench_only: bool
    tasks: list[str] = Field(description="Task types asked (rows may split one; see above).")
    question_types: list[str] = Field(description="The rows' question types.")
    arms: list[ArmCount]
    shortfall: dict[str, int] = Field(
        default_factory=dict,
        description="Task type -> rows no level of it could supply (empty when balanced).",
    )
    dropped: dict[str, int] = Field(
        default_factory=dict, description="Why proposals were not kept (reason -> count)."
    )
    verifier_checks: list[str] = Field(
        default_factory=list, description="The verifier's checks every row passed."
    )
    generator_version: int


def rows_fingerprint(rows: list[dict[str, Any]]) -> str:
    """Identity of a row set: equal fingerprints mean equal benchmarks, whatever the file bytes."""
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_manifest(root: Path) -> ProcSpatialManifest:
    path = root / MANIFEST_FILE
    if not path.is_file():
        raise UserError(
            f"{root}: not a ProcSpatial folder (no {MANIFEST_FILE}); build one with "
            f"'ouroboros eval build-procspatial --out {root}'"
        )
    try:
        return ProcSpatialManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        raise UserError(
            f"{path}: not a ProcSpatial manifest this code reads "
            f"({field_problem(error.errors()[0])}); rebuild the benchmark with 'ouroboros eval build-procspatial'"
        ) from error


class ProcSpatial:
    """ProcSpatial rows with frames read from the generated scene folders."""

    name = NAME
    #: Rows name their frames (ground truths hold for exactly those), so the count is fixed.
    fixed_frames = True

    def __init__(self, rows: list[BenchmarkRow], root: Path, manifest: ProcSpatialManifest) -> None:
        self.rows = rows
        self.root = Path(root)
        self.manifest = manifest
        self.version = manifest.version
        self.fingerprint = manifest.fingerprint
        self.default_frames = manifest.question_frames
        self._scenes: dict[Path, Scene] = {}
        self._cached_key: tuple[Path, tuple[int, ...]] | None = None
        self._cached_frames: list[Image.Image] = []

    @classmethod
    def load(
        cls,
        root: str | Path,
        limit: int | None = None,
        question_types: list[str] | None = None,
        vsibench_only: bool = False,
    ) -> ProcSpatial:
        """Read a built folder; `limit` keeps K rows round-robin over question types (file
        order interleaves levels, so a small subset still spans them)."""
        root = Path(root)
        if not root.is_dir():
            raise UserError(
                f"{root}: no such folder; build ProcSpatial with "
                f"'ouroboros eval build-procspatial --out {root}'"
            )
        manifest = read_manifest(root)
        rows = load_benchmark_rows(root / ROWS_FILE)
        if vsibench_only:
            rows = [row for row in rows if row.question_type in VSIBENCH_QUESTION_TYPES]
        return cls(select_rows(rows, limit, question_types), root, manifest)

    def scene_dir(self, row: BenchmarkRow) -> Path:
        return self.root / row.dataset / row.scene_name

    def scene(self, row: BenchmarkRow) -> Scene:
        path = self.scene_dir(row)
        if path not in self._scenes:
            self._scenes[path] = Scene.load(path)
        return self._scenes[path]

    def frame_indices(self, row: BenchmarkRow, count: int) -> list[int]:
        """The row's own frames when it names them, else `count` by the shared uniform rule."""
        named = (row.model_extra or {}).get("frame_indices")
        if named:
            return [int(index) for index in named]
        known = sorted(frame.index for frame in self.scene(row).walkthrough_frames)
        return [known[p] for p in uniform_positions(len(known), count)]

    def frames_for(self, row: BenchmarkRow, count: int) -> list[Image.Image]:
        """The row's frames as RGB images; the last frame set is cached."""
        indices = self.frame_indices(row, count)
        key = (self.scene_dir(row), tuple(indices))
        if key != self._cached_key:
            self._cached_frames = self._read_frames(row, indices)
            self._cached_key = key
        return list(self._cached_frames)

    def _read_frames(self, row: BenchmarkRow, indices: list[int]) -> list[Image.Image]:
        scene = self.scene(row)
        by_index = {frame.index: frame for frame in scene.frames}
        images = []
        for index in indices:
            frame = by_index.get(index)
            if frame is None or not frame.image_path:
                raise UserError(
                    f"row {row.id}: scene {row.scene_name} has no image for frame {index}; "
                    f"the folder {self.scene_dir(row)} is incomplete, rebuild the benchmark"
                )
            path = self.scene_dir(row) / frame.image_path
            if not path.is_file():
                raise UserError(
                    f"row {row.id}: frame image {path} is missing; rebuild the benchmark"
                )
            with Image.open(path) as image:
                images.append(image.convert("RGB"))
        return images
