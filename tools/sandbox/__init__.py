"""Sandboxes that run untrusted ground-truth programs: `make_sandbox("local")` or "e2b".

Adding a sandbox: write one module with a class that subclasses the abstract base `Sandbox`
(set `name`, `config_class`, implement `run` and `close`), then add one line to `SANDBOXES`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from common.errors import UserError

from .base import ErrorKind, ExecutionResult, Sandbox, SandboxBase
from .e2b import E2BSandbox, E2BSandboxConfig
from .local import LocalSandbox, LocalSandboxConfig

SANDBOXES: dict[str, type[Sandbox]] = {
    "local": LocalSandbox,
    "e2b": E2BSandbox,
}


def make_sandbox(name: str, **config: Any) -> Sandbox:
    """The sandbox registered as `name`, configured from keyword arguments."""
    if name not in SANDBOXES:
        raise UserError(f"unknown sandbox {name!r}; choose one of {', '.join(sorted(SANDBOXES))}")
    cls = SANDBOXES[name]
    config_class = cls.config_class
    if dataclasses.is_dataclass(config_class):
        known = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(config_class)}
        unknown = sorted(set(config) - set(known))
        if unknown:
            options = "; ".join(f"{key}: {text}" for key, text in known.items())
            raise UserError(
                f"sandbox {name!r} has no setting {', '.join(unknown)}. Settings: {options}"
            )
    return cls(config_class(**config))


__all__ = [
    "SANDBOXES",
    "E2BSandbox",
    "E2BSandboxConfig",
    "ErrorKind",
    "ExecutionResult",
    "LocalSandbox",
    "LocalSandboxConfig",
    "Sandbox",
    "SandboxBase",
    "make_sandbox",
]
