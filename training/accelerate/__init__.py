"""`accelerate launch` configs shipped with the package: DDP and DeepSpeed ZeRO-3.

accelerate launch --config_file "$(python -m training.accelerate ddp)" ...
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CONFIGS: dict[str, str] = {"ddp": "ddp.yaml", "zero3": "deepspeed_zero3.yaml"}


def config_path(name: str) -> Path:
    """The file of a shipped accelerate config ('ddp' or 'zero3')."""
    if name not in CONFIGS:
        raise ValueError(f"unknown accelerate config {name!r}; choose one of {sorted(CONFIGS)}")
    return Path(str(resources.files("training.accelerate").joinpath(CONFIGS[name])))
