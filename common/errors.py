"""Errors meant for people: what was wrong, where, and what to do about it.

The CLI catches `UserError` and prints its message without a traceback; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pydantic_core import ErrorDetails


def field_problem(entry: ErrorDetails) -> str:
    """One pydantic validation error as "field 'a.b': message", for a UserError's text."""
    where = ".".join(str(part) for part in entry["loc"]) or "<root>"
    return f"field '{where}': {entry['msg']}"


class UserError(Exception):
    """A problem with the user's input or configuration, worded for them."""
