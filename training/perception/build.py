"""Produce the seeing tiny solver: render rooms, pretrain the tower, save the checkpoint."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from transformers import AutoModelForImageTextToText, AutoProcessor

from agents.solver.tiny import TinySizes, build_tiny_solver
from common.io import atomic_directory
from scenes.schema import Scene, list_scene_dirs
from training.perception.pretrain import (
    PerceptionConfig,
    PerceptionHeads,
    category_word_vectors,
    load_frame_set,
    measure,
    train_perception,
    write_record,
)
from training.warmup import CATEGORIES

RECORD_NAME = "perception.json"


def render_rooms(folder: Path, first_seed: int, count: int, config: PerceptionConfig) -> Path:
    """Rooms `first_seed ..` with RGB, instance and depth images (kept: reruns reuse them)."""
    from scenes.procedural import generate_scenes

    if not folder.exists():
        with atomic_directory(folder) as tmp:
            generate_scenes(
                count, first_seed, tmp, config.frames, config.width, config.height, progress=False
            )
    return folder


def build_seeing_solver(
    config: PerceptionConfig,
    out: Path,
    work: Path,
    quiet: bool = False,
    vision_from: Path | None = None,
) -> dict[str, Any]:
    """Write the pretrained solver to `out` (atomically); returns the record saved beside it.
    With `vision_from` (a folder this function wrote before), its vision stage is reused and
    only the reading stage runs."""
    config.check()
    started = time.perf_counter()
    train_rooms = render_rooms(
        work / f"rooms-{config.seed}-{config.num_scenes}", config.seed, config.num_scenes, config
    )
    with atomic_directory(Path(out)) as tmp:
        if vision_from is None:
            record = pretrain_vision(config, tmp, train_rooms, work, quiet)
        else:
            shutil.copytree(vision_from, tmp, dirs_exist_ok=True)
            earlier = json.loads((tmp / RECORD_NAME).read_text(encoding="utf-8"))
            record = {k: v for k, v in earlier.items() if k not in ("config", "reading")}
            record.setdefault("vision_config", earlier["config"])
            record["vision_from"] = str(vision_from)
            earlier_reading = [*earlier.get("earlier_reading", []), earlier.get("reading")]
            record["earlier_reading"] = [r for r in earlier_reading if r]
        record["reading"] = (
            read_frames(tmp, train_rooms, config, quiet) if config.reading_steps else None
        )
        record["seconds"] = round(time.perf_counter() - started, 1)
        record["torch"] = torch.__version__
        write_record(tmp / RECORD_NAME, config, record)
    return record


def seeing_sizes(config: PerceptionConfig) -> TinySizes:
    """The tiny sizes with a wider tower whose last block feeds the one deepstack merger
    (the frame-presence tokens, added after the language model's first layer)."""
    sizes = TinySizes(vision_hidden_size=config.vision_width)
    return replace(sizes, deepstack_indexes=(sizes.vision_depth - 1,))


def pretrain_vision(
    config: PerceptionConfig, tmp: Path, train_rooms: Path, work: Path, quiet: bool
) -> dict[str, Any]:
    """Stage one: a random tiny solver in `tmp` whose vision tower learns the dense labels."""
    check_seed = config.seed + config.num_scenes
    check_rooms = render_rooms(
        work / f"rooms-{check_seed}-{config.check_scenes}", check_seed, config.check_scenes, config
    )
    build_tiny_solver(
        tmp,
        seed=config.model_seed,
        frame_size=config.frame_size,
        vocab_size=config.vocab_size,
        extra_words=CATEGORIES,
        sizes=seeing_sizes(config),
    )
    processor = AutoProcessor.from_pretrained(tmp)
    model = AutoModelForImageTextToText.from_pretrained(tmp, dtype=torch.float32)
    torch.manual_seed(config.model_seed)
    visual = model.model.visual
    heads = PerceptionHeads(
        category_word_vectors(model, processor.tokenizer),
        patch_width=visual.config.hidden_size,
        token_width=visual.config.out_hidden_size,
    )
    frames = load_frame_set(train_rooms, processor, config)
    check = load_frame_set(check_rooms, processor, config)
    before = measure(visual, heads, check)
    with Progress(
        TextColumn("perception pretraining"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        disable=quiet,
    ) as bar:
        task = bar.add_task("steps", total=config.steps, loss=float("nan"))

        def on_step(step: int, loss: float) -> None:
            bar.update(task, completed=step + 1, loss=loss)
            if quiet and (step + 1) % 50 == 0:
                print(f"step {step + 1}/{config.steps} loss {loss:.3f}", flush=True)

        losses = train_perception(visual, heads, frames, config, on_step=on_step)
    after = measure(visual, heads, check)
    model.save_pretrained(tmp)
    return {
        "train_frames": len(frames),
        "check_frames": len(check),
        "train_seeds": [config.seed, config.seed + config.num_scenes - 1],
        "check_seeds": [check_seed, check_seed + config.check_scenes - 1],
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "check_before": before,
        "check_after": after,
    }


def read_frames(
    solver_dir: Path, rooms: Path, config: PerceptionConfig, quiet: bool
) -> dict[str, Any]:
    """The reading stage (`reading.py`) on the solver in `solver_dir`, saved back there."""
    from tools.sandbox import make_sandbox
    from training.perception.reading import train_reading
    from training.warmup import WarmupConfig, build_warmup_samples

    forms = [
        "perception_seen_object",
        "perception_most_visible",
        *["perception_frames_showing"] * config.reading_showing_turns,
    ]
    questions = WarmupConfig(
        num_scenes=config.num_scenes,
        seed=config.seed,
        frames=config.frames,
        width=config.width,
        height=config.height,
        questions_per_scene=config.reading_questions_per_scene,
        steps=config.reading_steps,
        check_scenes=0,
        forms=forms,
    )
    scene_dirs = {Scene.load(folder).id: folder for folder in list_scene_dirs(rooms)}
    scenes = [Scene.load(folder) for folder in scene_dirs.values()]
    with make_sandbox("local", workers=2) as sandbox:
        samples = build_warmup_samples(scenes, questions, sandbox)
    processor = AutoProcessor.from_pretrained(solver_dir)
    model = AutoModelForImageTextToText.from_pretrained(solver_dir, dtype=torch.float32)
    torch.manual_seed(config.model_seed)

    def on_step(step: int, loss: float) -> None:
        if (step + 1) % 50 == 0 and quiet:
            print(f"reading step {step + 1}/{config.reading_steps} loss {loss:.3f}", flush=True)

    losses = train_reading(
        model,
        processor,
        samples,
        scene_dirs,
        steps=config.reading_steps,
        batch_size=config.reading_batch_size,
        learning_rate=config.reading_learning_rate,
        frame_size=config.frame_size,
        seed=config.model_seed,
        on_step=on_step,
    )
    model.save_pretrained(solver_dir)
    return {
        "questions": len(samples),
        "forms": dict(sorted(Counter(s.proposal.question_type for s in samples).items())),
        "steps": config.reading_steps,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "mean_loss_last_50": sum(losses[-50:]) / len(losses[-50:]),
    }
