"""Is a proposal at the level it was asked for? The rule every level table is read with.

A level's settings are the band its questions must fall in, stated with the effective
numbers (ambiguity margins included): `min_X` / `max_X` bound the measured quantity `X`
(`min_X <= X <= max_X`); `choices`, `options`, `categories` and `turns` are exact counts;
`format` is the answer kind. A task measures its proposals from the scene and the
program's constants (`Task.measure_level`); this module compares. The verifier's `level`
check and the tests use it for programmatic and LLM proposals alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import tools.geometry as g
from agents.tasks.base import program_constants

if TYPE_CHECKING:
    from agents.records import Proposal
    from agents.tasks.base import Task

COUNT_KEYS = ("choices", "options", "categories", "turns")

Measured = dict[str, float | int | str]


class CannotMeasure(Exception):
    """The proposal lacks what its level needs measured; the message says what to add."""


def band_problem(
    settings: Mapping[str, object], measured: Mapping[str, object], *, bands: bool = True
) -> str | None:
    """Why `measured` is outside the band `settings` states, or None when it is inside;
    `bands=False` checks only the format and the counts."""
    wanted = settings.get("format")
    if wanted is not None and measured.get("format") not in (None, wanted):
        return f"the level asks for a {wanted} question, not {measured['format']}"
    for key, value in settings.items():
        stated = isinstance(value, str) and key != "format" and key in measured
        if stated and measured[key] != value:
            return f"the level asks for {key} {value!r}, the question has {measured[key]!r}"
    for key in COUNT_KEYS:
        if key in settings and key in measured and int(measured[key]) != int(settings[key]):  # type: ignore[call-overload]
            return f"the level asks for {settings[key]} {key}, the question has {measured[key]}"
    for key, bound in settings.items() if bands else ():
        if not key.startswith(("min_", "max_")) or not isinstance(bound, int | float):
            continue
        quantity = key[4:]
        if quantity not in measured:
            raise CannotMeasure(f"cannot measure {quantity} for the level's {key}={bound}")
        value = float(measured[quantity])  # type: ignore[arg-type]
        if key.startswith("min_") and value < float(bound) - 1e-9:
            return f"{quantity} is {_fmt(value)}, below the level's {key}={bound}"
        if key.startswith("max_") and value > float(bound) + 1e-9:
            return f"{quantity} is {_fmt(value)}, above the level's {key}={bound}"
    return None


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def level_problem(
    task: Task, view: g.SceneView, proposal: Proposal, answer: str | None = None
) -> str | None:
    """Why the proposal is not at `proposal.level` of `task`, or None when it is.

    `answer` is the executed ground truth (numeric levels depend on it). Raises
    CannotMeasure when the program lacks the constants the task measures from, and
    geometry.Ambiguous when the scene does not support the measurement."""
    settings = task.settings(proposal.level)
    measured: Measured = {"format": proposal.answer_kind}
    if proposal.options:
        measured["options"] = measured["choices"] = len(proposal.options)
    try:
        constants = program_constants(proposal.program)
    except (SyntaxError, ValueError):
        constants = {}
    extra = task.measure_level(view, proposal, constants, answer)
    measured.update(extra or {})
    return band_problem(settings, measured, bands=extra is not None)


def need(constants: Mapping[str, Any], *names: str) -> list[Any]:
    """The named program constants, or CannotMeasure saying which to define."""
    missing = [name for name in names if name not in constants]
    if missing:
        raise CannotMeasure(
            f"the level is measured from the program's constants {', '.join(names)}; "
            f"define {', '.join(missing)} at the top of the program"
        )
    return [constants[name] for name in names]
