"""`python -m training.perception`: produce the seeing tiny solver (see docs/solver.md)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from common.errors import UserError
from training.perception.pretrain import PerceptionConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.perception",
        description="Pretrain the tiny solver's vision tower on rendered dense labels.",
    )
    parser.add_argument("--out", type=Path, required=True, help="Checkpoint folder to write.")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("runs/perception-pretrain"),
        help="Where the pretraining rooms are rendered (reused by later runs).",
    )
    for item in fields(PerceptionConfig):
        flag = "--" + item.name.replace("_", "-")
        parser.add_argument(
            flag, type=type(item.default), default=item.default, help=item.metadata["help"]
        )
    parser.add_argument(
        "--vision-from",
        type=Path,
        default=None,
        help="Reuse the vision stage of a solver this command wrote; run only the reading stage.",
    )
    parser.add_argument("--quiet", action="store_true", help="A line per 50 steps, no bar.")
    parser.add_argument(
        "--threads", type=int, default=1, help="Torch threads (1 is fastest for this tiny model)."
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = PerceptionConfig(**{f.name: getattr(args, f.name) for f in fields(PerceptionConfig)})
    import torch

    from training.perception.build import build_seeing_solver

    torch.set_num_threads(args.threads)
    try:
        record = build_seeing_solver(
            config, args.out, args.work, quiet=args.quiet, vision_from=args.vision_from
        )
    except (UserError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
