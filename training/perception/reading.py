"""The reading stage: the whole solver (tower frozen) learns to answer about its frames.

A tower that sees is not enough on its own: the tiny language model has to learn to bind
a word in the question ("B. sofa") to the frame tokens that show a sofa, and a few
hundred SFT questions at batch 4 do not teach that (docs/results.md, perception gate).
So, on the same reserved rooms whose dense labels trained the tower, the solver answers
many perception questions (the warm-up's forms, answers from the rendered pixel counts,
checked by their ground-truth programs in the sandbox) in large batches. Batches are the
SFT collator's (`training.collator.SolverCollator`): the loop's exact token layout, loss
on the answer and end-of-turn tokens only.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from agents.records import Sample
from agents.solver.frames import load_frame
from scenes.schema import Scene
from training.collator import SolverCollator
from training.modeling import freeze_vision_tower

#: Collator keys that are bookkeeping, not model inputs.
BOOKKEEPING = ("answer_segments", "sample_ids")


class FrameCache:
    """Frames resized once to the solver's size (every question reuses them)."""

    def __init__(self, scene_dirs: dict[str, Path], frame_size: int) -> None:
        self.scene_dirs = scene_dirs
        self.frame_size = frame_size
        self.scenes = {sid: Scene.load(folder) for sid, folder in scene_dirs.items()}
        self.images: dict[tuple[str, int], Image.Image] = {}

    def get(self, scene_id: str, index: int) -> Image.Image:
        key = (scene_id, index)
        if key not in self.images:
            frame = next(f for f in self.scenes[scene_id].frames if f.index == index)
            path = self.scene_dirs[scene_id] / (frame.image_path or "")
            self.images[key] = load_frame(path, self.frame_size)
        return self.images[key]


def sample_row(sample: Sample, frames: FrameCache) -> dict[str, Any]:
    proposal = sample.proposal
    return {
        "question": proposal.question,
        "options": list(proposal.options),
        "answer_kind": proposal.answer_kind,
        "ground_truth": sample.ground_truth,
        "sample_id": sample.sample_id,
        "images": [frames.get(proposal.scene_id, i) for i in proposal.frame_indices or []],
    }


def train_reading(
    model: Any,
    processor: Any,
    samples: Sequence[Sample],
    scene_dirs: dict[str, Path],
    *,
    steps: int,
    batch_size: int,
    learning_rate: float,
    frame_size: int,
    seed: int,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """AdamW with a one-cycle schedule over random batches; returns the loss per step."""
    freeze_vision_tower(model)
    frames = FrameCache(scene_dirs, frame_size)
    rows = [sample_row(sample, frames) for sample in samples]
    collate = SolverCollator(processor, frame_size)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=learning_rate, total_steps=steps, pct_start=0.05
    )
    order = random.Random(seed)
    losses: list[float] = []
    model.train()
    for step in range(steps):
        batch = collate(order.sample(rows, min(batch_size, len(rows))))
        loss = model(**{k: v for k, v in batch.items() if k not in BOOKKEEPING}).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, loss.item())
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    return losses
