"""What every loader returns, and how it turns schema complaints into errors about its file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from scenes.errors import SceneDataError
from scenes.schema import Scene


class LoaderWarning(UserWarning):
    """Something in a source that a loader kept but a person should know about."""


@dataclass(frozen=True)
class LoadedScene:
    """A scene read from a source, plus the source files its frames are copied from.

    `frame_files` maps a path relative to the new scene folder (``frames/00000.jpg``) to
    the file it is copied from, so that loading (all validation) finishes before
    anything is written.
    """

    scene: Scene
    frame_files: dict[str, Path] = field(default_factory=dict)


Loader = Callable[[Path], list[LoadedScene]]


def build_scene(source_path: Path, field_prefix: str = "", **fields: object) -> Scene:
    """Construct a `Scene`; a schema violation names the source file instead of a traceback."""
    try:
        return Scene(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first.get("loc", ()))
        name = ".".join(part for part in (field_prefix, location) if part) or "<root>"
        raise SceneDataError(source_path, name, str(first.get("msg", error))) from error
