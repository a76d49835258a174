"""Typed reads from parsed source files that fail with one `SceneDataError` naming the field.

Loaders walk a JSON document through `Field` values, each of which knows its file and
its dotted position (``object_bbox.chair[0].centroid``), so every complaint about bad
input says exactly where the problem is without each loader repeating the bookkeeping.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from scenes.errors import SceneDataError


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


@dataclass(frozen=True)
class Field:
    """A value read from `path` at position `name` (empty for the document root)."""

    path: Path
    name: str
    value: object

    def fail(self, problem: str, hint: str = "") -> NoReturn:
        raise SceneDataError(self.path, self.name or "<root>", problem, hint)

    def _child_name(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.name}[{key}]"
        return f"{self.name}.{key}" if self.name else key

    # -- structure ---------------------------------------------------------------------
    def __getitem__(self, key: str) -> Field:
        mapping = self.as_mapping()
        if key not in mapping:
            Field(self.path, self._child_name(key), None).fail("missing")
        return Field(self.path, self._child_name(key), mapping[key])

    def get(self, key: str) -> Field | None:
        """The child `key`, or None where the source leaves it out."""
        mapping = self.as_mapping()
        return Field(self.path, self._child_name(key), mapping[key]) if key in mapping else None

    def as_mapping(self) -> dict[str, object]:
        if not isinstance(self.value, dict):
            self.fail(f"expected an object, got {_type_name(self.value)}")
        return self.value

    def items(self) -> Iterator[tuple[str, Field]]:
        for key, value in self.as_mapping().items():
            yield key, Field(self.path, self._child_name(key), value)

    def as_list(self) -> list[Field]:
        if not isinstance(self.value, list):
            self.fail(f"expected a list, got {_type_name(self.value)}")
        return [Field(self.path, self._child_name(i), v) for i, v in enumerate(self.value)]

    # -- scalars -----------------------------------------------------------------------
    def as_str(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            self.fail(f"expected a non-empty string, got {_type_name(self.value)}")
        return self.value

    def as_bool(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"expected true or false, got {_type_name(self.value)}")
        return self.value

    def as_float(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            self.fail(f"expected a number, got {_type_name(self.value)} {self.value!r}")
        number = float(self.value)
        if not math.isfinite(number):
            self.fail(f"expected a finite number, got {self.value!r}")
        return number

    def as_int(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail(f"expected an integer, got {_type_name(self.value)} {self.value!r}")
        return self.value

    def as_vector(self, length: int) -> tuple[float, ...]:
        items = self.as_list()
        if len(items) != length:
            self.fail(f"expected {length} numbers, got {len(items)}")
        return tuple(item.as_float() for item in items)


def read_json(path: Path) -> Field:
    """Parse a JSON file into a root `Field`; a missing or malformed file is a `SceneDataError`."""
    if not path.is_file():
        raise SceneDataError(path, "<file>", "file not found")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SceneDataError(path, "<file>", f"not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise SceneDataError(
            path,
            "<file>",
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
        ) from error
    return Field(path, "", document)
