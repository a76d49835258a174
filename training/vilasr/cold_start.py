"""Cold-start trajectories written from exact ground truth, and ViLaSR's trajectory filter.

ViLaSR distils its cold start from a stronger model and keeps the trajectories that are
correct, draw successfully and take at least 3 rounds. We have the scene itself, so a
trajectory is *written*: the plan (``plans.py``) says what to draw, the real drawing board
draws it (so every image is the tool's true output), each turn's ``<think>`` states what
the previous drawing shows (measured boxes and lines) and what to draw next, and the last
turn states the answer the ground-truth program computed. Optionally one box is first
drawn wrong and corrected with the same label (synthetic reflection, as ViLaSR's RRS keeps).
The same filter then applies, so a plan that cannot be drawn never becomes training data.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import Progress

from agents.records import Sample, option_text
from agents.solver.frame_cache import FrameCache
from agents.solver.items import SolverItem
from agents.solver.tool_chat import system_message, tool_call_text, tool_message, user_message
from agents.solver.transcript import Transcript
from scenes.schema import Scene
from tools.drawing.environment import DrawingEnvironment
from tools.drawing.frame_geometry import FrameGeometry
from tools.geometry.image_space import CoordinateMode, to_coordinates
from training.data import resolve_scene_dirs
from training.vilasr.plans import plan_drawings
from training.vilasr.rewards import answer_accuracy, multi_turn_format, reflected

INTENT = {
    "object_mapper": "I will box the objects the question is about to see where they are.",
    "path_tracer": "I will draw lines between them to read the directions.",
}


@dataclass
class ColdStartSettings:
    """How cold-start trajectories are written and filtered."""

    frame_size: int = field(default=64, metadata={"help": "Solver frame side in pixels."})
    num_frames: int = field(default=8, metadata={"help": "Frames when a question names none."})
    coordinates: CoordinateMode = field(
        default="pixels", metadata={"help": "'pixels' or 'norm1000', as the solver writes them."}
    )
    reflection_rate: float = field(
        default=0.0,
        metadata={"help": "Share of trajectories that first draw one box wrong, then correct it."},
    )
    min_rounds: int = field(default=3, metadata={"help": "ViLaSR's filter: at least N turns."})
    seed: int = field(default=0, metadata={"help": "Seed of the reflection choice."})


def _convert(items: list[dict[str, Any]], size: int, mode: CoordinateMode) -> list[dict]:
    out = []
    for item in items:
        converted = dict(item)
        for key in ("bbox_2d", "start_point_2d", "end_point_2d"):
            if key in item:
                converted[key] = to_coordinates(item[key], size, size, mode)
        out.append(converted)
    return out


def _wrong_box(item: dict[str, Any], size: int) -> dict[str, Any]:
    """The same label, box shifted by its own width (wrapped inside the frame)."""
    x1, y1, x2, y2 = item["bbox_2d"]
    width = max(2, x2 - x1)
    shift = width if x2 + width <= size else -min(x1, width)
    shift = shift or size // 4
    return {**item, "bbox_2d": [x1 + shift, y1, x2 + shift, y2]}


def answer_statement(sample: Sample) -> str:
    truth = str(sample.ground_truth)
    if sample.proposal.answer_kind == "multiple_choice":
        for option in sample.proposal.options:
            if option.startswith(f"{truth}. "):
                return f"The answer is {truth}, {option_text(option)}."
    return f"The measured answer is {truth}."


class TrajectoryWriter:
    """Writes one trajectory per sample by drawing its plan on the real board."""

    def __init__(self, settings: ColdStartSettings) -> None:
        self.settings = settings
        self.frames = FrameCache(settings.frame_size)
        self.rng = random.Random(settings.seed)

    def write(
        self, sample: Sample, scene: Scene, scene_dir: Path, geometry: FrameGeometry
    ) -> Transcript | None:
        settings = self.settings
        item = SolverItem.from_sample(
            sample, scene_dir, scene=scene, num_frames=settings.num_frames
        )
        frame_indices = list(item.frame_indices or [])
        steps = plan_drawings(sample, scene, geometry, frame_indices, settings.coordinates)
        if not steps:
            return None
        frames = self.frames.for_item(item, blind=False)
        environment = DrawingEnvironment(frames, settings.coordinates)
        messages: list[dict[str, Any]] = [
            system_message(settings.coordinates),
            user_message(item, frames),
        ]
        images = list(frames)
        observed: list[str] = []
        last_drawn = 0
        reflect = self.rng.random() < settings.reflection_rate

        def call(tool: str, image_index: int, items: list[dict], thought: str) -> int:
            key = "objects" if tool == "object_mapper" else "paths"
            arguments = {
                "image_index": image_index,
                key: _convert(items, settings.frame_size, settings.coordinates),
            }
            text = f"<think>{thought}</think>\n{tool_call_text(tool, arguments)}"
            messages.append({"role": "assistant", "content": text})
            result = getattr(environment, tool)(**arguments)
            messages.append(tool_message(tool, result))
            if isinstance(result, str):
                return -1
            images.extend(p["image"] for p in result if p.get("type") == "image")
            return len(images)

        for step in steps:
            image_index = last_drawn if step.frame < 0 else step.frame + 1
            if image_index < 1:
                return None
            thought = " ".join([*observed, INTENT[step.tool]])
            if reflect and step.tool == "object_mapper":
                reflect = False
                wrong = [_wrong_box(step.items[0], settings.frame_size), *step.items[1:]]
                drawn = call(step.tool, image_index, wrong, thought)
                label = step.items[0]["label"]
                correction = (
                    f"The box labelled {label} in image {drawn} does not cover the {label}. "
                    f"I will draw the {label} again with a corrected box."
                )
                last_drawn = call(step.tool, drawn, step.items[:1], correction)
            else:
                last_drawn = call(step.tool, image_index, step.items, thought)
            if last_drawn < 0:
                return None
            observed = [*step.facts]
        final = " ".join([*observed, answer_statement(sample)])
        messages.append(
            {
                "role": "assistant",
                "content": f"<think>{final}</think>\n<answer>{sample.ground_truth}</answer>",
            }
        )
        board = environment.board
        return Transcript(
            sample_id=sample.sample_id,
            question=sample.proposal.question,
            answer_kind=sample.proposal.answer_kind,
            ground_truth=sample.ground_truth,
            messages=messages,
            images=images,
            num_frames=len(frames),
            tool_calls=board.calls if board else 0,
            tool_failures=board.failures if board else 0,
            reflections=board.reflections if board else 0,
        )


def filter_reason(
    transcript: Transcript, min_rounds: int = 3, need_reflection: bool = False
) -> str | None:
    """Why ViLaSR's filter drops a trajectory, or None when it passes."""
    turns = transcript.assistant_texts
    if transcript.ground_truth is None:
        return "no_ground_truth"
    if answer_accuracy(turns, transcript.ground_truth, transcript.answer_kind) < 1.0:
        return "incorrect"
    if transcript.tool_calls == 0 or transcript.tool_failures > 0:
        return "drawing_failed"
    if len(turns) < min_rounds:
        return "too_few_rounds"
    if multi_turn_format(turns) < 1.0:
        return "bad_format"
    if need_reflection and not reflected(turns):
        return "no_reflection"
    return None


def build_cold_start(
    samples: Iterable[Sample],
    scenes: Any,
    out_dir: str | Path,
    settings: ColdStartSettings | None = None,
    progress: bool = False,
) -> tuple[list[Path], dict[str, int]]:
    """Write every sample's trajectory that passes the filter to ``out_dir/<sample_id>``.

    Returns the folders written and a count of why the others were dropped.
    """
    settings = settings or ColdStartSettings()
    writer = TrajectoryWriter(settings)
    scene_dirs = resolve_scene_dirs(scenes)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    dropped: dict[str, int] = {}
    by_scene: dict[str, list[Sample]] = {}
    for sample in samples:
        if sample.ground_truth is not None:
            by_scene.setdefault(sample.proposal.scene_id, []).append(sample)
    total = sum(len(v) for v in by_scene.values())
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("cold-start trajectories", total=total)
        for scene_id, group in by_scene.items():
            if scene_id not in scene_dirs:
                dropped["scene_missing"] = dropped.get("scene_missing", 0) + len(group)
                continue
            scene = Scene.load(scene_dirs[scene_id])
            geometry = FrameGeometry(scene, settings.frame_size)
            for sample in group:
                transcript = writer.write(sample, scene, scene_dirs[scene_id], geometry)
                reason = (
                    "nothing_to_draw"
                    if transcript is None
                    else filter_reason(transcript, settings.min_rounds)
                )
                if reason is None and transcript is not None:
                    written.append(transcript.save(out_dir / sample.sample_id))
                else:
                    dropped[reason or "unknown"] = dropped.get(reason or "unknown", 0) + 1
                bar.advance(task)
            geometry.close()
    return written, dropped
