"""Run proposals' programs in a sandbox and turn the results into Samples.

Every proposal becomes a Sample: `pending` (executed, answer well-formed; the verifier
decides later) or `rejected` with an `ExecutionReason` and the sandbox's message. The
ground truth is written as VSI-Bench writes it: an option letter for multiple choice, a
number string for numeric answers (integers without a point; sizes in cm, distances and
areas with one decimal). Programs may return the option letter or the option's text (LLM
proposers often do the latter); both are mapped to the letter here.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from agents.records import Proposal, Sample, option_text
from agents.tasks import TASKS
from agents.tasks.options import format_number
from tools.sandbox.base import (
    ErrorKind,
    ExecutionResult,
    Sandbox,
    json_value_problem,
    scene_to_dict,
    utf8_text,
)

DEFAULT_DECIMALS = 2  # numeric answers of task types the registry does not know


class ExecutionReason(str, Enum):
    """Why execution rejected a proposal (the verifier adds its own reasons later)."""

    AMBIGUOUS = "ambiguous"  # the program raised geometry.Ambiguous
    PROGRAM_ERROR = "program_error"  # syntax error, no solve(), an exception
    RESOURCE_LIMIT = "resource_limit"  # timeout, memory, output caps
    BAD_ANSWER = "bad_answer"  # ran, but the value is no option / not a finite number
    SANDBOX_ERROR = "sandbox_error"  # the sandbox failed, not the program
    UNKNOWN_SCENE = "unknown_scene"  # the proposal names a scene we were not given


_KIND_REASONS: dict[ErrorKind, ExecutionReason] = {
    ErrorKind.AMBIGUOUS: ExecutionReason.AMBIGUOUS,
    ErrorKind.SYNTAX: ExecutionReason.PROGRAM_ERROR,
    ErrorKind.MISSING_SOLVE: ExecutionReason.PROGRAM_ERROR,
    ErrorKind.EXCEPTION: ExecutionReason.PROGRAM_ERROR,
    ErrorKind.NON_JSON: ExecutionReason.BAD_ANSWER,
    ErrorKind.TIMEOUT: ExecutionReason.RESOURCE_LIMIT,
    ErrorKind.MEMORY: ExecutionReason.RESOURCE_LIMIT,
    ErrorKind.OUTPUT_LIMIT: ExecutionReason.RESOURCE_LIMIT,
    ErrorKind.CRASHED: ExecutionReason.PROGRAM_ERROR,
    ErrorKind.SANDBOX_ERROR: ExecutionReason.SANDBOX_ERROR,
}


@dataclass
class ExecutionConfig:
    """Limits for running ground-truth programs."""

    timeout_s: float = field(default=10.0, metadata={"help": "Wall-clock limit per program (s)."})
    memory_mb: int = field(default=1024, metadata={"help": "Memory limit per program (MiB)."})
    batch_size: int = field(
        default=64, metadata={"help": "Programs handed to the sandbox at once (progress step)."}
    )


class BadAnswer(ValueError):
    """The program ran but its value cannot be a ground truth for this proposal."""


def ground_truth(proposal: Proposal, value: Any) -> str:
    """The VSI-Bench ground-truth string for a program's value, or BadAnswer."""
    if proposal.answer_kind == "multiple_choice":
        return _option_letter(proposal, value)
    try:
        number = float(value) if isinstance(value, int | float) else math.nan
    except OverflowError:  # an int beyond float range, e.g. 10**400
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise BadAnswer(
            f"a numeric question needs a finite number, the program returned {_short(value)}"
        )
    task = TASKS.get(proposal.question_type)
    decimals = task.answer_decimals if task and task.answer_decimals is not None else None
    if decimals is None:
        decimals = 0 if number.is_integer() else DEFAULT_DECIMALS
    return format_number(number, decimals)


def _short(value: Any, limit: int = 200) -> str:
    """A readable, bounded, UTF-8-safe description of a value a program returned."""
    try:
        text = reprlib.repr(value)
    except Exception:  # a value from a hostile program
        text = f"a {type(value).__name__}"
    return utf8_text(text)[:limit]


def _option_letter(proposal: Proposal, value: Any) -> str:
    letters = proposal.option_letters
    if isinstance(value, str) and value.strip() in letters:
        return value.strip()
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    wanted = " ".join(str(value).lower().split())
    for letter, option in zip(letters, proposal.options, strict=True):
        if " ".join(option_text(option).lower().split()) == wanted:
            return letter
    raise BadAnswer(f"the program returned {_short(value)}, which is none of {proposal.options}")


def sample_from_result(proposal: Proposal, result: ExecutionResult, iteration: int = 0) -> Sample:
    """A pending Sample with its ground truth, or a rejected one with the reason."""
    sample = Sample.from_proposal(proposal, iteration=iteration)
    if not result.ok:
        reason = _KIND_REASONS.get(result.error_kind, ExecutionReason.PROGRAM_ERROR)
        message = utf8_text(f"{result.error_kind.value}: {result.error_message}".strip())
        return sample.model_copy(
            update={"verdict": "rejected", "reason": reason.value, "execution_error": message}
        )
    problem = json_value_problem(result.value)
    if problem:  # a result built elsewhere than from a sandbox's reply
        return _rejected(sample, ExecutionReason.BAD_ANSWER, f"the program returned {problem}")
    try:
        truth = ground_truth(proposal, result.value)
    except BadAnswer as error:
        return _rejected(sample, ExecutionReason.BAD_ANSWER, str(error), result.value)
    except Exception as error:  # no answer may crash the loop
        message = f"the answer could not be turned into a ground truth: {_short(error)}"
        return _rejected(sample, ExecutionReason.BAD_ANSWER, message)
    return sample.model_copy(update={"ground_truth": truth, "executed_value": result.value})


def _rejected(sample: Sample, reason: ExecutionReason, message: str, value: Any = None) -> Sample:
    return sample.model_copy(
        update={
            "verdict": "rejected",
            "reason": reason.value,
            "execution_error": utf8_text(message),
            "executed_value": value,
        }
    )


def execute(
    proposals: Sequence[Proposal],
    scenes: Mapping[str, Any],
    sandbox: Sandbox,
    *,
    config: ExecutionConfig | None = None,
    iteration: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> list[Sample]:
    """Run every proposal's program on its scene; one Sample per proposal, in order.

    `scenes` maps scene id to a `Scene` (or its JSON dict); `on_progress(n)` is called with
    the number of programs finished after each batch.
    """
    config = config or ExecutionConfig()
    scene_dicts = {scene_id: scene_to_dict(scene) for scene_id, scene in scenes.items()}
    samples: list[Sample | None] = [None] * len(proposals)
    runnable: list[int] = []
    for i, proposal in enumerate(proposals):
        if proposal.scene_id in scene_dicts:
            runnable.append(i)
            continue
        samples[i] = Sample.from_proposal(proposal, iteration=iteration).model_copy(
            update={
                "verdict": "rejected",
                "reason": ExecutionReason.UNKNOWN_SCENE.value,
                "execution_error": f"no scene {proposal.scene_id!r} among the scenes given",
            }
        )
    if on_progress is not None and len(runnable) < len(proposals):
        on_progress(len(proposals) - len(runnable))
    step = max(1, config.batch_size)
    for start in range(0, len(runnable), step):
        batch = runnable[start : start + step]
        jobs = [(proposals[i].program, scene_dicts[proposals[i].scene_id]) for i in batch]
        results = sandbox.run_many(jobs, timeout_s=config.timeout_s, memory_mb=config.memory_mb)
        for i, result in zip(batch, results, strict=True):
            samples[i] = sample_from_result(proposals[i], result, iteration)
        if on_progress is not None:
            on_progress(len(batch))
    return [s for s in samples if s is not None]
