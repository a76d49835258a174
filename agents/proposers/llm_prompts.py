"""The LLM proposer's prompts: templates in prompts/*.md filled with the scene, task and feedback.

Templates use `$name` placeholders (string.Template), so the Markdown and Python inside them
need no escaping. The system prompt carries the geometry library reference, the task menu
(every task type with its levels and a VSI-Bench-style example question from the demo room)
and last round's difficulty feedback; the request names the arm and shows an example program
at that level.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from string import Template

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from agents.curriculum import DifficultyFeedback
from agents.proposers.llm_tools import build_tools
from agents.records import Proposal, Sample
from agents.tasks import TASKS, CannotPose, Task, TaskContext
from agents.tasks.base import uniform_frames
from agents.tasks.demo_scene import demo_scene
from scenes.schema import Scene

PROMPTS_DIR = "prompts"  # inside the agents.proposers package, shipped as package data


@cache
def load_template(name: str) -> Template:
    """A prompt template shipped in agents/proposers/prompts/."""
    source = resources.files("agents.proposers").joinpath(PROMPTS_DIR, name)
    return Template(source.read_text(encoding="utf-8"))


def render(template: str, /, **fields: object) -> str:
    """Fill a template; a missing field is a KeyError naming it (never a silent blank)."""
    return load_template(template).substitute({k: str(v) for k, v in fields.items()}).strip()


class FeedbackExample(BaseModel):
    """A question of last round with the solver's confidence, shown as too easy or too hard."""

    question_type: str
    level: int
    question: str
    options: list[str] = Field(default_factory=list)
    ground_truth: str | None = None
    confidence: float = Field(ge=0, le=1)


class ProposerFeedback(BaseModel):
    """What the proposer is told about last round: per-arm bands plus a few examples."""

    bands: DifficultyFeedback = Field(default_factory=DifficultyFeedback)
    too_easy: list[FeedbackExample] = Field(default_factory=list)
    too_hard: list[FeedbackExample] = Field(default_factory=list)

    @classmethod
    def from_samples(
        cls, samples: Iterable[Sample], bands: DifficultyFeedback | None = None, per_task: int = 2
    ) -> ProposerFeedback:
        """Bands (given, or summarised from the samples) and the most extreme examples per task."""
        from agents.curriculum import summarize

        scored = [s for s in samples if s.verdict == "accepted" and s.confidence is not None]
        bands = bands or summarize(scored)
        easy, hard = bands.thresholds.easy, bands.thresholds.hard
        return cls(
            bands=bands,
            too_easy=_extremes([s for s in scored if (s.confidence or 0) > easy], per_task, True),
            too_hard=_extremes([s for s in scored if (s.confidence or 0) < hard], per_task, False),
        )


def _extremes(samples: list[Sample], per_task: int, most_confident: bool) -> list[FeedbackExample]:
    """Up to `per_task` examples per task type, the most (or least) confident first."""
    by_task: dict[str, list[Sample]] = {}
    for sample in samples:
        by_task.setdefault(sample.proposal.question_type, []).append(sample)
    chosen: list[FeedbackExample] = []
    for task in sorted(by_task):
        ranked = sorted(
            by_task[task], key=lambda s: float(s.confidence or 0.0), reverse=most_confident
        )
        chosen += [_example(s) for s in ranked[:per_task]]
    return chosen


def _example(sample: Sample) -> FeedbackExample:
    return FeedbackExample(
        question_type=sample.proposal.question_type,
        level=sample.proposal.level,
        question=sample.proposal.question,
        options=sample.proposal.options,
        ground_truth=sample.ground_truth,
        confidence=float(sample.confidence or 0.0),
    )


def system_prompt(
    tasks: Mapping[str, Task],
    feedback: ProposerFeedback | None,
    tools: Sequence[BaseTool] | None = None,
) -> str:
    """The round's system prompt; `tools` are the agent's tools (default: the registry's),
    so the prompt lists exactly the tools the model can call."""
    return render(
        "system.md",
        tool_list=tool_list(build_tools() if tools is None else tools),
        geometry_reference=load_template("geometry_api.txt").template.strip(),
        task_menu=task_menu(tuple(tasks)),
        feedback=feedback_section(feedback),
    )


def tool_list(tools: Sequence[BaseTool]) -> str:
    """One line per tool: its name and the first sentence of its description (the model gets
    the full description and arguments with the tool schema)."""
    lines = []
    for item in tools:
        summary = " ".join(item.description.split("\n\n", 1)[0].split())
        first, dot, _ = summary.partition(". ")
        lines.append(f"- {item.name}: {first}{dot.strip() or ''}")
    return "\n".join(lines)


@cache
def task_menu(names: tuple[str, ...]) -> str:
    """One entry per task type: what it asks, answer formats, levels, an example question."""
    entries = []
    for name in names:
        task = TASKS[name]
        example = demo_example(name, 1)
        levels = "; ".join(f"L{level}: {_settings(task.levels[level])}" for level in task.levels)
        text = (
            f"### {name}\n{task.description} Answers: {', '.join(task.answer_kinds)}."
            f"{' Needs the video frames.' if task.needs_frames else ''}\nLevels: {levels}"
        )
        if example is not None:
            text += f"\nExample: {example.question}" + (
                f" Options: {' '.join(example.options)}" if example.options else ""
            )
        entries.append(text)
    return "\n\n".join(entries)


@cache
def demo_example(name: str, level: int) -> Proposal | None:
    """The programmatic proposer's question of this arm on the demo room (nearest level that
    works), else on a small procedural room (the demo room has no countable category whose
    every instance is clearly visible, for one)."""
    task = TASKS[name]
    for scene in _example_scenes():
        for candidate in sorted(task.levels, key=lambda lv: (abs(lv - level), lv)):
            for seed in range(4):
                context = TaskContext.build(scene, rng=random.Random(seed))
                try:
                    return task.propose(context, candidate)
                except CannotPose:
                    continue
    return None


def _example_scenes() -> Iterator[Scene]:
    yield demo_scene()
    yield from _procedural_examples()


@cache
def _procedural_examples() -> tuple[Scene, ...]:
    from scenes.procedural import generate_scene

    return tuple(generate_scene(seed, frames=24, width=160, height=120).scene for seed in (1, 2))


def request_prompt(
    scene: Scene,
    question_type: str,
    level: int,
    feedback: ProposerFeedback | None,
    num_solver_frames: int = 16,
) -> str:
    """The human turn that starts an attempt: the scene's size, the frames the solver will
    see, the arm with its band and how it is measured, an example program."""
    task = TASKS[question_type]
    settings = task.settings(level)
    answer_format = settings.get("format") or " or ".join(task.answer_kinds)
    example = demo_example(question_type, level)
    example_text = "No example is available for this task."
    if example is not None:
        frames = uniform_frames(scene, num_solver_frames)
        program = re.sub(
            r"^FRAMES = .*$",
            f"FRAMES = {frames}  # the solver's frames of THIS scene (see above)",
            example.program,
            flags=re.M,
        )
        example = example.model_copy(update={"program": program})
        options = f"\nOptions: {example.options}" if example.options else ""
        example_text = (
            f"Example from another room (level {example.level}):\nQuestion: {example.question}"
            f"{options}\nProgram:\n```python\n{example.program.strip()}\n```"
        )
    categories = {o.category for o in scene.objects}
    return render(
        "request.md",
        scene_id=scene.id,
        object_count=len(scene.objects),
        category_count=len(categories),
        frame_count=len(scene.frames),
        question_type=question_type,
        level=level,
        description=task.description,
        answer_format=answer_format,
        settings=_settings(settings),
        level_measure=level_measure(task),
        solver_view=solver_view(scene, num_solver_frames),
        example=example_text,
        arm_feedback=arm_feedback(feedback, question_type, level),
    )


def solver_view(scene: Scene, num_solver_frames: int) -> str:
    """Which frames the solver gets for this scene (the sampling rule applied) and the rate."""
    frames = uniform_frames(scene, num_solver_frames)
    if not frames:
        return "The solver sees no frames: this scene has metadata only."
    times = [f.timestamp for f in sorted(scene.frames, key=lambda f: f.index)]
    span = times[-1] - times[0]
    rate = f"{(len(times) - 1) / span:.1f} frames per second" if span > 0 else "one instant"
    by_index = {f.index: f.timestamp for f in scene.frames}
    stamps = ", ".join(f"{i} (t={by_index[i]:.1f} s)" for i in frames)
    return (
        f"The video has {len(times)} frames over {span:.1f} s ({rate}). Unless you pass "
        f"frame_indices, the solver sees only these {len(frames)} frames, spread evenly over "
        f"the video: {stamps}. Ask only about what these frames show; a program that needs "
        f"the frame list (FRAMES) must use exactly {frames}."
    )


def level_measure(task: Task) -> str:
    """How the verifier's level check measures this task (the task's own docstring)."""
    base = "the answer format and the number of options/choices must match the level"
    if type(task).measure_level is Task.measure_level:
        return base + "."
    doc = " ".join((type(task).measure_level.__doc__ or "").split())
    return f"{base}; {doc} Each min_X/max_X bounds the measured X."


def feedback_section(feedback: ProposerFeedback | None) -> str:
    if feedback is None or not feedback.bands.arms:
        return "No feedback yet (first round): write questions of the requested level."
    thresholds = feedback.bands.thresholds
    rows = [
        "| task | level | samples | mean p | too easy | frontier | too hard |",
        "|---" * 7 + "|",
    ]
    for arm in feedback.bands.arms:
        rows.append(
            f"| {arm.question_type} | {arm.level} | {arm.count} | {arm.mean_confidence:.2f} "
            f"| {arm.easy:.0%} | {arm.frontier:.0%} | {arm.hard:.0%} |"
        )
    examples = []
    for title, items in (("Too easy", feedback.too_easy), ("Too hard", feedback.too_hard)):
        if items:
            examples.append(f"{title} last round:")
            examples += [
                f"- [{e.question_type} L{e.level}, p={e.confidence:.2f}] {e.question}"
                + (f" {' '.join(e.options)}" if e.options else "")
                for e in items
            ]
    return render(
        "feedback.md",
        easy=thresholds.easy,
        hard=thresholds.hard,
        table="\n".join(rows),
        examples="\n".join(examples),
    )


def arm_feedback(feedback: ProposerFeedback | None, question_type: str, level: int) -> str:
    """One line on how this arm did last round, with the direction to move in."""
    stats = feedback.bands.by_arm().get((question_type, level)) if feedback else None
    if stats is None:
        return "No feedback for this task and level yet."
    if stats.easy > max(stats.frontier, stats.hard):
        advice = "mostly too easy: make this question harder than usual for the level"
    elif stats.hard > max(stats.frontier, stats.easy):
        advice = "mostly too hard: make this question easier and clearer than usual"
    else:
        advice = "mostly at the frontier: keep questions like these coming"
    return (
        f"Last round at this task and level: {stats.count} samples, mean p "
        f"{stats.mean_confidence:.2f}, {stats.easy:.0%} too easy, {stats.hard:.0%} too hard; "
        f"{advice}."
    )


def _settings(settings: Mapping[str, object]) -> str:
    return ", ".join(f"{key}={value}" for key, value in settings.items())
