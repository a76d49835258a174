"""Scene input errors: which file, which field, and the fix."""

from __future__ import annotations

from pathlib import Path

from common.errors import UserError

__all__ = ["SceneDataError"]


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
