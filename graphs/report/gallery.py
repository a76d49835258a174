"""The sample gallery: which samples to show, and each one's frames, question and verdict.

A run holds thousands of candidates; the page shows at most `max_samples`, spread evenly
over iterations, outcomes (accepted, each rejection reason) and task types, so rare
rejection reasons and small task types are seen too. Frames become small JPEG thumbnails, each stored once in the page's CSS and
shared by every card that shows it (questions about one scene reuse its frames).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from agents.records import Sample
from agents.solver.frames import choose_frames, frame_paths
from graphs.report.data import IterationData, RunData
from scenes.sampling import uniform_positions
from scenes.schema import Scene, list_scene_dirs

DEFAULT_MAX_SAMPLES = 200
MAX_FRAMES_PER_CARD = 8
DEFAULT_SOLVER_FRAMES = 16  # agents.solver.SolverConfig's default, when config.yaml sets none
THUMB_SIZE = (128, 96)
THUMB_QUALITY = 70
MAX_ERROR_CHARS = 1500


@dataclass
class OptionView:
    letter: str
    text: str
    is_truth: bool
    probability: float | None


@dataclass
class FrameView:
    css_class: str
    index: int


@dataclass
class Card:
    """One sample as the gallery shows it."""

    sample: Sample
    band: str | None
    trained: bool | None
    options: list[OptionView]
    frames: list[FrameView]
    frames_note: str = ""

    @property
    def task(self) -> str:
        return self.sample.proposal.question_type

    @property
    def reason(self) -> str:
        if self.sample.verdict == "accepted":
            return ""
        return self.sample.reason or self.sample.verdict

    @property
    def error(self) -> str:
        text = self.sample.execution_error or ""
        return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + " …"


@dataclass
class Gallery:
    cards: list[Card]
    total: int  # candidates in the run, before the cap
    thumbnails_css: str
    missing_frames: int = 0  # cards whose frames could not be read

    @property
    def capped(self) -> bool:
        return len(self.cards) < self.total


def interleave(sequences: list[list[Sample]]) -> list[Sample]:
    """Round-robin merge: the first of each, then the second of each, and so on."""
    merged: list[Sample] = []
    for depth in range(max((len(s) for s in sequences), default=0)):
        merged += [s[depth] for s in sequences if depth < len(s)]
    return merged


def select_samples(iterations: list[IterationData], max_samples: int) -> list[Sample]:
    """At most `max_samples` samples, spread over iterations, then outcomes, then task types.

    Outcomes are 'accepted' and each rejection reason, so a rare reason shows up as soon
    as the cap allows. Within a group samples go by id (a hash: effectively shuffled, but
    reproducible). The result is ordered by iteration, task type and verdict for reading."""
    per_iteration = []
    for it in iterations:
        outcomes: dict[str, dict[str, list[Sample]]] = {}
        for sample in sorted(it.samples, key=lambda s: s.sample_id):
            outcome = "accepted" if sample.verdict == "accepted" else f"rejected:{sample.reason}"
            outcomes.setdefault(outcome, {}).setdefault(sample.proposal.question_type, []).append(
                sample
            )
        per_outcome = [
            interleave([tasks[t] for t in sorted(tasks)]) for _, tasks in sorted(outcomes.items())
        ]
        per_iteration.append(interleave(per_outcome))
    chosen = interleave(per_iteration)[:max_samples]
    verdict_order = {"accepted": 0, "rejected": 1}
    return sorted(
        chosen,
        key=lambda s: (
            s.iteration,
            s.proposal.question_type,
            verdict_order.get(s.verdict, 2),
            s.sample_id,
        ),
    )


class Thumbnails:
    """Frame thumbnails keyed by (scene, frame index), each encoded once as a CSS class."""

    def __init__(self) -> None:
        self._classes: dict[Path, str] = {}
        self._rules: list[str] = []

    def css_class(self, path: Path) -> str:
        if path not in self._classes:
            name = f"fr{len(self._classes)}"
            self._rules.append(
                f".{name}{{background-image:url(data:image/jpeg;base64,{_jpeg(path)})}}"
            )
            self._classes[path] = name
        return self._classes[path]

    def css(self) -> str:
        return "\n".join(self._rules)


def _jpeg(path: Path) -> str:
    with Image.open(path) as image:
        thumb = image.convert("RGB")
        thumb.thumbnail(THUMB_SIZE)
        buffer = io.BytesIO()
        thumb.save(buffer, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class SceneIndex:
    """Scenes of the run by id, loaded on first use (a pool can be large)."""

    root: Path
    _dirs: dict[str, Path] | None = None
    _scenes: dict[str, Scene] = field(default_factory=dict)

    def get(self, scene_id: str) -> tuple[Scene, Path] | None:
        folder = self.root / scene_id
        if not (folder / "scene.json").exists():
            folder = self._scan().get(scene_id)
        if folder is None:
            return None
        if scene_id not in self._scenes:
            self._scenes[scene_id] = Scene.load(folder)
        return self._scenes[scene_id], folder

    def _scan(self) -> dict[str, Path]:
        if self._dirs is None:
            dirs = list_scene_dirs(self.root) if self.root.exists() else []
            self._dirs = {Scene.load(d).id: d for d in dirs}
        return self._dirs


def solver_frame_count(config: dict) -> int:
    settings = (config.get("solver") or {}).get("settings") or {}
    return int(settings.get("num_frames") or DEFAULT_SOLVER_FRAMES)


def build_gallery(
    run: RunData, scenes_dir: Path, max_samples: int = DEFAULT_MAX_SAMPLES
) -> Gallery:
    chosen = select_samples(run.iterations, max_samples)
    trained = {it.iteration: it.trained_ids for it in run.iterations}
    scenes = SceneIndex(scenes_dir)
    thumbnails = Thumbnails()
    num_frames = solver_frame_count(run.config)
    cards, missing = [], 0
    for sample in chosen:
        frames, note = _frames(sample, scenes, thumbnails, num_frames)
        missing += not frames
        ids = trained.get(sample.iteration)
        cards.append(
            Card(
                sample=sample,
                band=run.thresholds.band(sample.confidence)
                if sample.verdict == "accepted"
                else None,
                trained=None if ids is None else sample.sample_id in ids,
                options=_options(sample),
                frames=frames,
                frames_note=note,
            )
        )
    total = sum(it.proposed for it in run.iterations)
    return Gallery(
        cards=cards, total=total, thumbnails_css=thumbnails.css(), missing_frames=missing
    )


def _frames(
    sample: Sample, scenes: SceneIndex, thumbnails: Thumbnails, num_frames: int
) -> tuple[list[FrameView], str]:
    """The frames the solver saw: the proposal's own, else its uniform choice."""
    found = scenes.get(sample.proposal.scene_id)
    if found is None:
        return [], f"scene {sample.proposal.scene_id} is not in the run's scenes/ folder"
    scene, folder = found
    try:
        indices = choose_frames(scene, sample.proposal.frame_indices, num_frames)
        paths = frame_paths(scene, folder, indices)
    except ValueError as error:
        return [], str(error)
    note = ""
    if len(indices) > MAX_FRAMES_PER_CARD:
        keep = uniform_positions(len(indices), MAX_FRAMES_PER_CARD)
        note = f"{MAX_FRAMES_PER_CARD} of the {len(indices)} frames the solver saw"
        indices, paths = [indices[i] for i in keep], [paths[i] for i in keep]
    present = [(i, p) for i, p in zip(indices, paths, strict=True) if p.exists()]
    if len(present) < len(indices):
        note = f"{len(indices) - len(present)} frame file(s) missing"
    return [FrameView(thumbnails.css_class(p), i) for i, p in present], note


def _options(sample: Sample) -> list[OptionView]:
    proposal = sample.proposal
    probs = sample.letter_probs or {}
    views = []
    for letter, option in zip(proposal.option_letters, proposal.options, strict=True):
        text = option[len(letter) + 2 :] if option.startswith(f"{letter}. ") else option
        views.append(OptionView(letter, text, letter == sample.ground_truth, probs.get(letter)))
    return views


def filter_values(cards: Iterable[Card]) -> dict[str, list[tuple[str, int]]]:
    """(value, count) of each filter over the cards shown, for the page's selectors."""
    counters: dict[str, dict[str, int]] = {"iteration": {}, "task": {}, "reason": {}, "band": {}}
    for card in cards:
        values = {
            "iteration": str(card.sample.iteration),
            "task": card.task,
            "reason": card.reason,
            "band": card.band or "",
        }
        for name, value in values.items():
            if value:
                counters[name][value] = counters[name].get(value, 0) + 1
    order = {"easy": 0, "frontier": 1, "hard": 2}
    result = {name: sorted(c.items()) for name, c in counters.items()}
    result["iteration"] = sorted(counters["iteration"].items(), key=lambda kv: int(kv[0]))
    result["band"] = sorted(counters["band"].items(), key=lambda kv: order.get(kv[0], 3))
    return result
