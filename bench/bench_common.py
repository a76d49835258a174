"""What the benchmark scripts share: a command line made from a config dataclass, scenes.

The scripts run as files (`.venv/bin/python bench/propose.py`), so this folder is on
`sys.path` and they import this module by its bare name.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from scenes.procedural import generate_scenes
from scenes.schema import Scene, list_scene_dirs

Config = TypeVar("Config")


def parse_config(
    config_class: type[Config], description: str, argv: list[str] | None = None
) -> Config:
    """One `--field-name` option per field, typed by its default (a list takes several ints),
    with the field's `help` metadata; returns the config."""
    parser = argparse.ArgumentParser(description=description)
    for spec in dataclasses.fields(config_class):  # type: ignore[arg-type]
        default = (
            spec.default_factory()
            if spec.default_factory is not dataclasses.MISSING
            else spec.default
        )
        typing: dict[str, Any] = {"type": str if default is None else type(default)}
        if isinstance(default, list):
            typing = {"type": int, "nargs": "+"}
        parser.add_argument(
            f"--{spec.name.replace('_', '-')}",
            dest=spec.name,
            default=default,
            help=spec.metadata["help"],
            **typing,
        )
    return config_class(**vars(parser.parse_args(argv)))


def procedural_scenes(
    root: Path, count: int, seed: int, frames: int, width: int, height: int
) -> list[Scene]:
    """The first `count` scenes under `root`, generated there first when it holds none."""
    if not list_scene_dirs(root):
        generate_scenes(count, seed, root, frames, width, height, progress=False)
    return [Scene.load(d) for d in list_scene_dirs(root)[:count]]


def quiet_console(threads: int) -> Any:
    """Set torch's threads, silence the datasets / transformers progress bars and logs, and
    return a console bound to the real stdout (the scripts redirect the loop's own output)."""
    import sys

    import torch
    from datasets.utils.logging import disable_progress_bar
    from rich.console import Console
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(threads)
    disable_progress_bar()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
