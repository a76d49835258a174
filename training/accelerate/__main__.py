"""Print the path of a shipped accelerate config: `python -m training.accelerate ddp`."""

from __future__ import annotations

import sys

from training.accelerate import CONFIGS, config_path

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CONFIGS:
        sys.exit(f"usage: python -m training.accelerate {{{','.join(sorted(CONFIGS))}}}")
    print(config_path(sys.argv[1]))
