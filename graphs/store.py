"""The run directory: everything a run produced, laid out so a person can browse it.

```
RUN_DIR/
  config.yaml                 the resolved configuration (snapshot)
  scenes/<scene_id>/          the scene pool (scene.json + frames/)
  eval/procspatial/           the held-out benchmark (built once)
  solver/initial/             the starting checkpoint (built for the tiny preset)
  eval_initial.json           held-out result of the starting solver (the baseline)
  training/sft/iteration-003/ trainer checkpoints (weights, optimizer, scheduler, step)
  iterations/003/
    proposals/<job>.json      proposals of one propose job, one file per fan-out branch
    samples.parquet           every candidate: accepted and rejected, with reasons
    scored.parquet            accepted samples with the solver's confidence
    train.parquet             the samples selected for training
    train.json, eval.json     training summary (losses, steps, model_dir) and held-out result
    train.log                 the trainer's own log output
    trajectories.jsonl        LLM proposer trajectories (when an LLM proposes)
  metrics.json                per-iteration metrics history
  checkpoints.sqlite          LangGraph's checkpoint database (resume)
```

Every file is written atomically (temp file, then rename), so a crash never leaves a
half-written file, and a node that finds its output already there reuses it: re-running
a node after a crash neither duplicates nor loses samples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from agents.records import Proposal, Sample
from agents.sample_io import read_samples, write_samples
from common.io import atomic_write_text


class RunStore:
    def __init__(self, run_dir: str | Path) -> None:
        self.root = Path(run_dir)

    # -- layout ---------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def scenes_dir(self) -> Path:
        return self.root / "scenes"

    @property
    def eval_dir(self) -> Path:
        return self.root / "eval" / "procspatial"

    @property
    def initial_solver_dir(self) -> Path:
        return self.root / "solver" / "initial"

    @property
    def initial_eval_path(self) -> Path:
        """Held-out result of the starting solver (the baseline)."""
        return self.root / "eval_initial.json"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.json"

    @property
    def checkpoint_db(self) -> Path:
        return self.root / "checkpoints.sqlite"

    def iteration_dir(self, iteration: int) -> Path:
        return self.root / "iterations" / f"{iteration:03d}"

    def proposals_path(self, iteration: int, job: str) -> Path:
        """One propose job's proposals (runs from before propose jobs: one file per scene)."""
        return self.iteration_dir(iteration) / "proposals" / f"{job}.json"

    def samples_path(self, iteration: int) -> Path:
        return self.iteration_dir(iteration) / "samples.parquet"

    def scored_path(self, iteration: int) -> Path:
        return self.iteration_dir(iteration) / "scored.parquet"

    def train_set_path(self, iteration: int) -> Path:
        return self.iteration_dir(iteration) / "train.parquet"

    @property
    def training_dir(self) -> Path:
        return self.root / "training"

    def train_result_path(self, iteration: int) -> Path:
        return self.iteration_dir(iteration) / "train.json"

    def eval_result_path(self, iteration: int) -> Path:
        return self.iteration_dir(iteration) / "eval.json"

    @staticmethod
    def transcripts_dir(eval_path: Path) -> Path:
        """Where a held-out evaluation's drawing transcripts go (next to its result file)."""
        return eval_path.parent / f"{eval_path.stem}-transcripts"

    def trajectories_path(self, iteration: int) -> Path:
        return self.iteration_dir(iteration) / "trajectories.jsonl"

    def iterations(self) -> list[int]:
        folder = self.root / "iterations"
        if not folder.exists():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())

    # -- reading and writing ----------------------------------------------------------------
    def write_json(self, path: Path, data: Any) -> Path:
        atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
        return path

    @staticmethod
    def read_json(path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))

    def write_config(self, config: dict[str, Any]) -> Path:
        atomic_write_text(self.config_path, yaml.safe_dump(config, sort_keys=False))
        return self.config_path

    def read_config(self) -> dict[str, Any]:
        return yaml.safe_load(self.config_path.read_text(encoding="utf-8"))

    def write_proposals(self, iteration: int, job: str, proposals: list[Proposal]) -> Path:
        return self.write_json(
            self.proposals_path(iteration, job), [p.model_dump(mode="json") for p in proposals]
        )

    def read_proposals(self, iteration: int) -> list[Proposal]:
        """All proposals of an iteration, in job (file name) order: deterministic."""
        folder = self.iteration_dir(iteration) / "proposals"
        proposals: list[Proposal] = []
        for path in sorted(folder.glob("*.json")):
            proposals.extend(Proposal.model_validate(p) for p in self.read_json(path))
        return proposals

    def write_samples(self, path: Path, samples: list[Sample]) -> Path:
        return write_samples(samples, path)

    @staticmethod
    def read_samples(path: Path) -> list[Sample]:
        return read_samples(path)

    def accepted_samples(self, up_to_iteration: int | None = None) -> list[Sample]:
        """Accepted samples of every finished iteration (for reports and audits)."""
        out: list[Sample] = []
        for iteration in self.iterations():
            if up_to_iteration is not None and iteration > up_to_iteration:
                break
            path = self.samples_path(iteration)
            if path.exists():
                out.extend(s for s in read_samples(path) if s.verdict == "accepted")
        return out

    def write_metrics(self, history: list[dict[str, Any]]) -> Path:
        return self.write_json(self.metrics_path, history)

    def read_metrics(self) -> list[dict[str, Any]]:
        return self.read_json(self.metrics_path) if self.metrics_path.exists() else []
