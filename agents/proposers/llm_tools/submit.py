"""The final tool: submit the proposal; it is checked and executed before the attempt ends.

`submit_proposal` builds a `Proposal` from the model's structured answer, checks it against
the request (task type, answer format of the level), runs its program in the sandbox,
compares the program's answer with the answer the model states, and runs the verifier's
checks that can judge one sample at once (`IMMEDIATE_CHECKS`). Anything wrong goes back
to the model as a tool error to fix; a good submission updates the graph state
(`submission`), which ends the attempt.
"""

from __future__ import annotations

import math
from typing import Literal

from langchain.tools import ToolRuntime
from langchain_core.messages import ToolMessage
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from agents.execution import BadAnswer, ground_truth, sample_from_result
from agents.proposers.llm_tools.context import ToolContext, ToolError
from agents.proposers.llm_tools.program import describe_result
from agents.records import Proposal, option_text
from agents.tasks import TASKS
from agents.tasks.base import program_constants, uniform_frames
from tools.sandbox.base import ExecutionResult

STATED_ANSWER_TOLERANCE = 0.05  # relative, plus half a unit of the answer's rounding
#: The verifier's checks a submission gets at once (the second run and the blind check,
#: which need the whole round or the solver, come after it).
IMMEDIATE_CHECKS = ("typed_answer", "agreement", "ambiguity", "level", "grounding", "dedup")


class Submission(BaseModel):
    """A submitted proposal with the answer its program computed on the scene."""

    model_config = ConfigDict(extra="forbid")

    proposal: Proposal
    executed_value: JsonValue = None
    ground_truth: str = Field(description="Option letter or number string (VSI-Bench form).")


def submit_proposal(
    question_type: str,
    question: str,
    answer_kind: Literal["multiple_choice", "numeric"],
    program: str,
    stated_answer: str,
    runtime: ToolRuntime[ToolContext],
    options: list[str] | None = None,
    referenced_instances: list[int] | None = None,
    frame_indices: list[int] | None = None,
) -> Command:
    """Submit the finished question with its ground-truth program; this ends your work.

    The program is run on the scene and the verifier's immediate checks judge it: typed
    answer, agreement with your stated answer, ambiguity, level (its measured difficulty
    must be in the requested level's band), grounding (the named objects clearly visible in
    the solver's frames) and duplicates. If any fails you get the check, the reason and the
    detail back and can fix and submit again, within your tool-call and error limits.

    Args:
        question_type: The task type you were asked for, e.g. "object_counting".
        question: The question as the solver will read it (it sees the video, not the metadata).
        answer_kind: "multiple_choice" (with options) or "numeric" (no options).
        program: Python source defining solve(scene); returns the option letter (or the
            option's text) for multiple choice, a number for numeric questions.
        stated_answer: Your own answer: the option letter, or the number.
        options: Multiple-choice options written "A. text", "B. text", ...; omit for numeric.
        referenced_instances: Instance ids of the objects the question names.
        frame_indices: Frames the solver must see (e.g. the two frames of a camera-motion
            question); omit to show the solver frames spread over the whole video.
    """
    context = runtime.context
    proposal = _build_proposal(
        context,
        question_type=question_type,
        question=question,
        answer_kind=answer_kind,
        program=program,
        stated_answer=stated_answer,
        options=options or [],
        referenced_instances=referenced_instances or [],
        frame_indices=frame_indices,
    )
    result = context.require_sandbox().run(
        program,
        context.scene,
        timeout_s=context.settings.program_timeout_s,
        memory_mb=context.settings.program_memory_mb,
    )
    if not result.ok:
        raise ToolError(
            "the program did not produce an answer, so the question cannot be accepted yet: "
            + describe_result(result)
        )
    try:
        truth = ground_truth(proposal, result.value)
    except BadAnswer as error:
        raise ToolError(f"{error}; return one of the option letters or a number") from None
    _check_stated_answer(proposal, stated_answer, truth)
    _check_frames_constant(proposal)
    _run_checks(context, proposal, result)
    if not context.questions.add_if_new(proposal.fingerprint()):
        raise ToolError("this exact question was already asked this round; ask something else")
    submission = Submission(proposal=proposal, executed_value=result.value, ground_truth=truth)
    message = ToolMessage(
        content=f"accepted: the program's answer is {truth}, as you stated; it passed the "
        f"execution, {', '.join(c.replace('_', ' ') for c in IMMEDIATE_CHECKS)} checks (a "
        "second run and the blind check follow after the round)",
        tool_call_id=runtime.tool_call_id or "submit_proposal",
        name="submit_proposal",
    )
    return Command(update={"submission": submission, "messages": [message]})


def _run_checks(context: ToolContext, proposal: Proposal, result: ExecutionResult) -> None:
    """The verifier's checks that can judge one submission at once; a rejection goes back
    to the model as a tool error naming the check, the reason and what was wrong."""
    from agents.verifier import Verifier, VerifierConfig

    sample = sample_from_result(proposal, result)
    verifier = Verifier(VerifierConfig(checks=list(IMMEDIATE_CHECKS)))
    report = verifier.verify([sample], {context.scene.id: context.scene})
    audit = report.audits[0]
    if report.samples[0].verdict == "rejected":
        raise ToolError(
            f"not accepted: the {audit.check} check rejects it ({audit.reason}): "
            f"{audit.detail}. Fix the question or the program and submit again"
        )


def _check_frames_constant(proposal: Proposal) -> None:
    """A program's FRAMES constant must be the frames the solver sees."""
    try:
        frames = program_constants(proposal.program).get("FRAMES")
    except (SyntaxError, ValueError):
        return
    if frames is not None and list(frames) != list(proposal.frame_indices or []):
        raise ToolError(
            f"the program's FRAMES {list(frames)} are not the frames the solver sees "
            f"{proposal.frame_indices}; use exactly those (see the request), or pass "
            "frame_indices"
        )


def _build_proposal(
    context: ToolContext,
    *,
    question_type: str,
    question: str,
    answer_kind: str,
    program: str,
    stated_answer: str,
    options: list[str],
    referenced_instances: list[int],
    frame_indices: list[int] | None,
) -> Proposal:
    request = context.request
    if request is not None and question_type != request.question_type:
        raise ToolError(
            f"you were asked for a {request.question_type!r} question, not {question_type!r}"
        )
    task = TASKS.get(question_type)
    if task is None:
        raise ToolError(f"unknown question_type {question_type!r}; known: {', '.join(TASKS)}")
    level = request.level if request is not None else 1
    settings = task.settings(level)
    wanted = settings.get("format")
    if wanted is not None and answer_kind != wanted:
        raise ToolError(f"level {level} of {question_type} asks for a {wanted} question")
    if answer_kind == "multiple_choice" and len(options) < 2:
        raise ToolError("a multiple_choice question needs at least two options 'A. ...', 'B. ...'")
    if answer_kind == "numeric" and options:
        raise ToolError("a numeric question has no options; omit options or use multiple_choice")
    for instance_id in referenced_instances:
        context.object(instance_id)
    for index in frame_indices or []:
        context.frame(index)
    frames = (
        list(frame_indices)
        if frame_indices
        else uniform_frames(context.scene, context.settings.num_solver_frames)
    )
    try:
        return Proposal(
            scene_id=context.scene.id,
            question_type=question_type,
            question=question.strip(),
            options=[option.strip() for option in options],
            answer_kind=answer_kind,  # type: ignore[arg-type]
            program=program,
            level=level,
            difficulty=settings,
            frame_indices=frames,
            referenced_instances=sorted(set(referenced_instances)),
            proposer_id=context.proposer_id,
            stated_answer=stated_answer.strip(),
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'proposal'}: {e['msg']}"
            for e in error.errors()
        )
        raise ToolError(f"the proposal is not valid: {problems}") from None


def _check_stated_answer(proposal: Proposal, stated: str, truth: str) -> None:
    """The program must agree with the model's own answer: letters exactly, numbers within 5%
    plus half a unit of the answer's rounding (as the verifier's agreement check)."""
    stated = stated.strip()
    if proposal.answer_kind == "multiple_choice":
        letter = _stated_letter(proposal, stated)
        if letter is None:
            raise ToolError(
                f"stated_answer {stated!r} is none of the option letters {proposal.option_letters}"
            )
        if letter != truth:
            raise ToolError(
                f"your stated answer is {letter} but the program returns {truth}; check the "
                "program and the question, then submit again"
            )
        return
    try:
        number = float(stated)
    except ValueError:
        raise ToolError(f"stated_answer {stated!r} is not a number") from None
    expected = float(truth)
    decimals = len(truth.partition(".")[2])
    tolerance = STATED_ANSWER_TOLERANCE * abs(expected) + 0.5 * 10**-decimals
    if not math.isfinite(number) or abs(number - expected) > tolerance:
        raise ToolError(
            f"your stated answer {stated} differs from the program's {truth} by more than "
            f"{STATED_ANSWER_TOLERANCE:.0%}; check the program and the question"
        )


def _stated_letter(proposal: Proposal, stated: str) -> str | None:
    head = stated.split(".")[0].strip().upper()
    if head in proposal.option_letters:
        return head
    for letter, option in zip(proposal.option_letters, proposal.options, strict=True):
        if option_text(option).strip().lower() == stated.lower():
            return letter
    return None
