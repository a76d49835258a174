"""Sandboxes that run untrusted ground-truth programs: `make_sandbox("local")` or "e2b".

Adding a sandbox: write one module with a class that subclasses `Sandbox` (set `name`,
`config_class`, implement `run` and `close`), then add one line to `SANDBOXES`.
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


def sandbox_config(name: str, **settings: Any) -> Any:
    """The config of the sandbox registered as `name`, from keyword settings; unknown names
    and settings are user errors that list the choices."""
    if name not in SANDBOXES:
        raise UserError(f"unknown sandbox {name!r}; choose one of {', '.join(sorted(SANDBOXES))}")
    config_class = SANDBOXES[name].config_class
    if dataclasses.is_dataclass(config_class):
        known = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(config_class)}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            options = "; ".join(f"{key}: {text}" for key, text in known.items())
            raise UserError(
                f"sandbox {name!r} has no setting {', '.join(unknown)}. Settings: {options}"
            )
    return config_class(**settings)


def make_sandbox(name: str, config: Any = None, **settings: Any) -> Sandbox:
    """The sandbox registered as `name`, built by its `from_config` from `config` (its
    `config_class`) or, without one, from keyword settings."""
    if config is None:
        config = sandbox_config(name, **settings)  # checks the name first
    elif name not in SANDBOXES:
        sandbox_config(name)  # the unknown-name error
    return SANDBOXES[name].from_config(config)


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
    "sandbox_config",
]
