"""Settings dataclasses from plain mappings (config files), with errors worded for users.

Config sections like `solver.settings` or `proposer.settings` are mappings handed to a
component's settings dataclass; nested dataclass fields take nested mappings. A wrong key
or value is a `UserError` that names where it was ("proposer.settings.limits") and lists
the keys that are known there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from common.errors import UserError

T = TypeVar("T")


def build_dataclass(
    cls: type[T], values: Mapping[str, Any], where: str, hidden: Collection[str] = ()
) -> T:
    """`cls(**values)`, nested mappings built into nested dataclass fields; `hidden` fields
    (set elsewhere) are left out of the list of known settings an error shows."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(
            f"invalid configuration at '{where}': unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(set(fields) - set(hidden)))}"
        )
    built: dict[str, Any] = {}
    for name, value in values.items():
        nested = _dataclass_default(fields[name])
        if isinstance(value, Mapping) and nested is not None:
            value = build_dataclass(nested, value, f"{where}.{name}")
        built[name] = value
    try:
        return cls(**built)
    except (TypeError, ValueError) as error:
        raise UserError(f"invalid configuration at '{where}': {error}") from error


def _dataclass_default(field: dataclasses.Field[Any]) -> type | None:
    """The dataclass type of a field whose default is a dataclass instance, else None."""
    if field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    elif field.default is not dataclasses.MISSING:
        default = field.default
    else:
        return None
    return type(default) if dataclasses.is_dataclass(default) else None


def reject_reserved(values: Mapping[str, Any], reserved: Mapping[str, str], where: str) -> None:
    """Settings another config key decides (name -> that key) are refused, naming the key."""
    for name in sorted(set(values) & set(reserved)):
        raise UserError(
            f"invalid configuration at '{where}.{name}': this is set by {reserved[name]}; "
            f"remove {where}.{name} and set {reserved[name]} instead"
        )


def check_recipe_settings(values: Mapping[str, Any], recipe: str, known: Mapping[str, str]) -> None:
    """A `training.recipe_settings` key the recipe does not read is a user error that names
    the key and lists what the recipe reads (`known`: name -> what it sets)."""
    unknown = sorted(set(values) - set(known))
    if unknown:
        listed = "; ".join(f"{name} ({text})" for name, text in known.items())
        raise UserError(
            f"invalid configuration at 'training.recipe_settings': training.recipe={recipe} "
            f"does not read {', '.join(unknown)}; it reads {listed or 'nothing'}"
        )
