"""Pretrain the tiny solver's vision tower on dense labels, then save the whole solver.

The tiny solver's language model is small and its SFT budget is a few hundred questions,
too little to also learn to see from random pixels. So its vision tower learns first,
from what the renderer gives for free: for every vision token, which object categories
cover its pixels and how far away they are. The category head is tied to the language
model's own word embeddings (cosine to the mean embedding of each category name's
tokens), so a token that shows a chair lands near the word " chair": the language model
then reads the frames in its own vocabulary.

Counting the frames that show a category needs more than token shares: a chair over
three tokens and one over a third of a token are both "one frame". So the tower's last
block also feeds a deepstack merger (added to the language model's hidden states after
its first layer) whose every token is taught, again in the word-embedding space, which
categories can be seen anywhere in its frame: counting frames becomes counting flagged
tokens. After pretraining the tower is saved with a random language model like any tiny
solver, loads with `from_pretrained`, and is meant to be trained with
`freeze_vision_tower=True` (the mergers into the language model still train).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from scenes.schema import Scene, list_scene_dirs
from training.perception.labels import FrameTargets, frame_targets
from training.perception.seeds import PERCEPTION_SEED_START, check_perception_seeds
from training.warmup import CATEGORIES


@dataclass
class PerceptionConfig:
    """What perception pretraining renders, how it trains, and the solver it writes."""

    num_scenes: int = field(default=192, metadata={"help": "Rooms to pretrain on."})
    check_scenes: int = field(
        default=4, metadata={"help": "Further rooms (the next seeds) that measure the heads."}
    )
    seed: int = field(
        default=PERCEPTION_SEED_START,
        metadata={"help": "First room seed; must lie in the reserved perception range."},
    )
    frames: int = field(default=16, metadata={"help": "Walkthrough frames per room."})
    width: int = field(default=160, metadata={"help": "Rendered frame width (the loop's)."})
    height: int = field(default=120, metadata={"help": "Rendered frame height (the loop's)."})
    frame_size: int = field(default=64, metadata={"help": "Solver frame side (cpu-tiny: 64)."})
    steps: int = field(default=4000, metadata={"help": "Optimizer steps of the vision stage."})
    batch_frames: int = field(default=32, metadata={"help": "Frames per step."})
    learning_rate: float = field(default=3e-3, metadata={"help": "AdamW learning rate."})
    depth_weight: float = field(default=0.5, metadata={"help": "Weight of the depth loss."})
    patch_weight: float = field(
        default=0.5, metadata={"help": "Weight of the per-patch category loss."}
    )
    model_seed: int = field(default=0, metadata={"help": "Seed of the random initial solver."})
    vocab_size: int = field(
        default=768, metadata={"help": "Tokenizer size (category names become single tokens)."}
    )
    vision_width: int = field(default=48, metadata={"help": "Vision tower width (tiny: 32)."})
    presence_weight: float = field(
        default=1.0,
        metadata={"help": "Weight of the per-frame 'which categories can be seen' loss."},
    )
    reading_steps: int = field(
        default=2000,
        metadata={
            "help": "Second stage (0: none): the whole solver, tower frozen, answers the "
            "warm-up's perception questions about the same reserved rooms (reading.py)."
        },
    )
    reading_questions_per_scene: int = field(
        default=50, metadata={"help": "Perception questions per room in the reading stage."}
    )
    reading_batch_size: int = field(default=32, metadata={"help": "Questions per step."})
    reading_learning_rate: float = field(
        default=2e-3, metadata={"help": "Peak AdamW learning rate of the reading stage."}
    )
    reading_showing_turns: int = field(
        default=2,
        metadata={
            "help": "Frames-showing questions per turn of the two multiple-choice forms in the "
            "reading stage (counting is the hardest form)."
        },
    )

    def check(self) -> None:
        check_perception_seeds(self.seed, self.num_scenes + self.check_scenes)


class PerceptionHeads(nn.Module):
    """Heads tied to word embeddings (token categories, frame presence), patch categories, depth."""

    def __init__(self, word_vectors: torch.Tensor, patch_width: int, token_width: int) -> None:
        super().__init__()
        self.register_buffer("words", F.normalize(word_vectors, dim=-1))
        self.nothing = nn.Parameter(torch.randn(token_width) * 0.1)
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.patch = nn.Linear(patch_width, word_vectors.shape[0] + 1)
        self.depth = nn.Linear(token_width, 1)
        self.presence_scale = nn.Parameter(torch.tensor(10.0))
        self.presence_bias = nn.Parameter(torch.tensor(-2.0))

    def token_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        classes = torch.cat([F.normalize(self.nothing, dim=-1)[None], self.words])
        return self.scale * F.normalize(tokens, dim=-1) @ classes.T

    def presence_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """One independent 'seen in this frame' logit per category, tied to its word."""
        cosine = F.normalize(tokens, dim=-1) @ self.words.T
        return self.presence_scale * cosine + self.presence_bias


def category_word_vectors(model: Any, tokenizer: Any) -> torch.Tensor:
    """Mean input embedding of each category name's tokens (with its leading space)."""
    table = model.get_input_embeddings().weight.detach()
    rows = []
    for name in CATEGORIES:
        ids = tokenizer(" " + name, add_special_tokens=False)["input_ids"]
        rows.append(table[ids].mean(0))
    return torch.stack(rows)


def presence_loss(logits: torch.Tensor, seen: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the categories whose presence is clear."""
    loss = F.binary_cross_entropy_with_logits(logits, seen, reduction="none")
    return (loss * known).sum() / known.sum().clamp(min=1.0)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return -(target * F.log_softmax(logits, dim=-1)).sum(-1).mean()


@dataclass
class FrameSet:
    """Frames as the processor encodes them, with their targets stacked."""

    pixels: torch.Tensor  # (frames, patches, patch_dim)
    grid: torch.Tensor  # (3,) one frame's grid_thw
    token_categories: torch.Tensor  # (frames, tokens, classes)
    patch_categories: torch.Tensor  # (frames, patches, classes)
    token_depth: torch.Tensor  # (frames, tokens)
    presence: torch.Tensor  # (frames, categories)
    presence_known: torch.Tensor  # (frames, categories)

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def batch(self, rows: list[int]) -> dict[str, torch.Tensor]:
        n = len(rows)
        tokens = self.token_categories.shape[1]
        return {
            "pixels": self.pixels[rows].reshape(-1, self.pixels.shape[-1]),
            "grid": self.grid[None].repeat(n, 1),
            "token_categories": self.token_categories[rows].reshape(
                -1, self.token_categories.shape[-1]
            ),
            "patch_categories": self.patch_categories[rows].reshape(
                -1, self.patch_categories.shape[-1]
            ),
            "token_depth": self.token_depth[rows].reshape(-1),
            "presence": self.presence[rows].repeat_interleave(tokens, dim=0),
            "presence_known": self.presence_known[rows].repeat_interleave(tokens, dim=0),
        }


def load_frame_set(scenes_dir: Path, processor: Any, config: PerceptionConfig) -> FrameSet:
    vision = processor.image_processor
    targets: list[FrameTargets] = []
    for folder in list_scene_dirs(scenes_dir):
        scene = Scene.load(folder)
        for frame in scene.frames:
            targets.append(
                frame_targets(
                    scene,
                    folder,
                    frame,
                    CATEGORIES,
                    config.frame_size,
                    vision.patch_size,
                    vision.merge_size,
                )
            )
    encoded = vision(images=[t.image for t in targets], return_tensors="pt")
    grid = encoded["image_grid_thw"][0]
    per_frame = int(grid.prod())
    return FrameSet(
        pixels=encoded["pixel_values"].reshape(len(targets), per_frame, -1).float(),
        grid=grid,
        token_categories=torch.from_numpy(np.stack([t.token_categories for t in targets])),
        patch_categories=torch.from_numpy(np.stack([t.patch_categories for t in targets])),
        token_depth=torch.from_numpy(np.stack([t.token_depth for t in targets])),
        presence=torch.from_numpy(np.stack([t.presence for t in targets])),
        presence_known=torch.from_numpy(np.stack([t.presence_known for t in targets])),
    )


def perception_losses(
    visual: nn.Module,
    heads: PerceptionHeads,
    batch: dict[str, torch.Tensor],
    config: PerceptionConfig,
) -> dict[str, torch.Tensor]:
    output = visual(batch["pixels"], grid_thw=batch["grid"])
    tokens = output.pooler_output
    losses = {
        "tokens": soft_cross_entropy(heads.token_logits(tokens), batch["token_categories"]),
        "presence": sum(
            presence_loss(heads.presence_logits(f), batch["presence"], batch["presence_known"])
            for f in output.deepstack_features
        )
        / max(len(output.deepstack_features), 1),
        "patches": soft_cross_entropy(
            heads.patch(output.last_hidden_state), batch["patch_categories"]
        ),
        "depth": (heads.depth(tokens).squeeze(-1) - batch["token_depth"]).abs().mean(),
    }
    losses["total"] = (
        losses["tokens"]
        + config.presence_weight * losses["presence"]
        + config.patch_weight * losses["patches"]
        + config.depth_weight * losses["depth"]
    )
    return losses


@torch.no_grad()
def measure(visual: nn.Module, heads: PerceptionHeads, frames: FrameSet) -> dict[str, float]:
    """Token accuracy (argmax class) against always 'no object', and frame-level recall and
    precision of categories covering at least 2% of a frame (the warm-up's 'seen')."""
    rows = list(range(len(frames)))
    batch = frames.batch(rows)
    output = visual(batch["pixels"], grid_thw=batch["grid"])
    probs = heads.token_logits(output.pooler_output).softmax(-1)
    target = batch["token_categories"]
    per_frame = frames.token_categories.shape[1]
    predicted_share = probs.reshape(len(rows), per_frame, -1).mean(1)[:, 1:]
    true_share = target.reshape(len(rows), per_frame, -1).mean(1)[:, 1:]
    seen, called = true_share >= 0.02, predicted_share >= 0.02
    true_positive = (seen & called).sum().item()
    presence = {}
    if output.deepstack_features:
        flags = heads.presence_logits(output.deepstack_features[-1])
        flags = flags.reshape(len(rows), per_frame, -1).mean(1) > 0
        known, truth = frames.presence_known > 0, frames.presence > 0
        hits = (flags & truth & known).sum().item()
        presence = {
            "presence_recall": hits / max((truth & known).sum().item(), 1),
            "presence_precision": hits / max((flags & known).sum().item(), 1),
        }
    return {
        "token_accuracy": (probs.argmax(-1) == target.argmax(-1)).float().mean().item(),
        "token_accuracy_always_nothing": (target.argmax(-1) == 0).float().mean().item(),
        "seen_recall": true_positive / max(seen.sum().item(), 1),
        "seen_precision": true_positive / max(called.sum().item(), 1),
        "depth_mae_log": (
            (heads.depth(output.pooler_output).squeeze(-1) - batch["token_depth"])
            .abs()
            .mean()
            .item()
        ),
        **presence,
    }


def train_perception(
    visual: nn.Module,
    heads: PerceptionHeads,
    frames: FrameSet,
    config: PerceptionConfig,
    on_step: Any = None,
) -> list[float]:
    parameters = [p for p in visual.parameters()] + list(heads.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.steps, pct_start=0.1
    )
    order = random.Random(config.seed)
    losses = []
    visual.train()
    for step in range(config.steps):
        rows = order.sample(range(len(frames)), min(config.batch_frames, len(frames)))
        loss = perception_losses(visual, heads, frames.batch(rows), config)["total"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, loss.item())
    visual.eval()
    return losses


def write_record(path: Path, config: PerceptionConfig, record: dict[str, Any]) -> None:
    path.write_text(
        json.dumps({"config": asdict(config), **record}, indent=1) + "\n", encoding="utf-8"
    )
