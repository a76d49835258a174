"""Errors meant for people: what was wrong, where, and what to do about it.

The CLI catches `UserError` and prints its message without a traceback; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_core import ErrorDetails


def field_problem(entry: ErrorDetails) -> str:
    """One pydantic validation error as "field 'a.b': message", for a UserError's text."""
    where = ".".join(str(part) for part in entry["loc"]) or "<root>"
    return f"field '{where}': {entry['msg']}"


class UserError(Exception):
    """A problem with the user's input or configuration, worded for them."""


class SceneDataError(UserError):
    """Scene input that cannot be read: names the file, the field and the fix."""

    def __init__(self, path: str | Path, field: str, problem: str, hint: str = "") -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        self.hint = hint
        message = f"{self.path}: field '{field}': {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
