"""Train one loop iteration from the command line (also under `accelerate launch`).

    python -m training --method sft --model Qwen/Qwen3-VL-4B-Instruct \\
        --samples runs/exp/samples-000.parquet --scenes scenes/ --run-dir runs/exp --iteration 0

    accelerate launch --config_file "$(python -m training.accelerate ddp)" -m training ...

`--settings FILE.yaml` sets any SFTSettings / GRPOSettings field; `--set key=value`
overrides one (YAML syntax for the value). The result is printed as JSON.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from training.config import GRPOSettings, SFTSettings

METHODS: dict[str, type[SFTSettings] | type[GRPOSettings]] = {
    "sft": SFTSettings,
    "grpo": GRPOSettings,
}


def load_settings(method: str, path: Path | None, overrides: list[str], tiny: bool) -> Any:
    """Settings from the YAML file, then `key=value` overrides, on the tiny base if asked."""
    values: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise SystemExit(f"{path}: expected a mapping of setting names to values")
        values.update(loaded)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: write it as key=value")
        values[key.strip()] = yaml.safe_load(raw)
    cls = METHODS[method]
    try:
        return cls.tiny(**values) if tiny else cls(**values)
    except TypeError as error:
        raise SystemExit(f"unknown or misspelled setting: {error}") from error


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.split("\n")[0])
    parser.add_argument("--method", choices=sorted(METHODS), default="sft")
    parser.add_argument("--model", default=None, help="starting checkpoint (first iteration)")
    parser.add_argument("--samples", type=Path, required=True, help="samples Parquet file")
    parser.add_argument("--scenes", type=Path, required=True, help="folder of scene folders")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--iteration", type=int, default=0)
    parser.add_argument("--settings", type=Path, default=None, help="YAML file of settings")
    parser.add_argument("--set", action="append", default=[], help="override: key=value")
    parser.add_argument("--tiny", action="store_true", help="start from the CPU-friendly settings")
    args = parser.parse_args(argv)
    from training.iterations import SolverTrainer

    settings = load_settings(args.method, args.settings, args.set, args.tiny)
    trainer = SolverTrainer(settings, args.run_dir)
    result = trainer.train_iteration(args.samples, args.scenes, args.iteration, model=args.model)
    report = asdict(result)
    report["checkpoint_dir"], report["model_dir"] = (
        str(result.checkpoint_dir),
        str(result.model_dir),
    )
    print(json.dumps({key: report[key] for key in report if key != "per_sample_confidence"}))
    return report


if __name__ == "__main__":
    main()
