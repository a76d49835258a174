"""Frames as one video through the model's video processor (evaluation's paper protocol):
aspect ratio kept, the clip's own timestamps, batches of differently shaped clips, and the
frame settings file that travels with checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from transformers import ProcessorMixin

from agents.solver.config import SolverConfig
from agents.solver.encoding import prompt_text
from agents.solver.frames import (
    ClipTiming,
    FrameSettings,
    load_frame_settings,
    save_frame_settings,
)
from agents.solver.items import SolverItem
from agents.solver.solver import Solver
from agents.solver.video_input import clip_timing, encode_video_batch


def clip(width: int, height: int, count: int, seed: int) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        for _ in range(count)
    ]


def item(frames: list[Image.Image], timing: ClipTiming | None = None) -> SolverItem:
    return SolverItem.from_images("How many chairs?", frames, "numeric", clip=timing)


def test_video_input_keeps_the_aspect_ratio_and_the_clip_timing(
    tiny_model: tuple[object, ProcessorMixin],
) -> None:
    _, processor = tiny_model
    landscape, portrait = clip(160, 96, 8, 0), clip(96, 160, 6, 1)
    timing = ClipTiming(positions=[0, 5, 11, 16, 22, 27, 33, 39], fps=24.0, total_frames=40)
    items = [item(landscape, timing), item(portrait)]
    texts = [prompt_text(processor, it, 0, video=True) for it in items]
    timings = [clip_timing(landscape, timing), clip_timing(portrait, None)]
    encoded = encode_video_batch(processor, texts, [landscape, portrait], timings)
    grid = encoded["video_grid_thw"].tolist()
    assert [t for t, _, _ in grid] == [4, 3], "two frames per temporal patch"
    (_, h0, w0), (_, h1, w1) = grid
    assert w0 > h0 and h1 > w1, "landscape stays landscape, portrait stays portrait"
    assert abs(w0 / h0 - 160 / 96) < 0.35
    decoded = processor.tokenizer.decode(encoded["input_ids"][0])
    # timestamps are the clip's: frames 11 and 16 at 24 fps average to 0.56 s
    assert "<0.1 seconds>" in decoded and "<0.6 seconds>" in decoded
    assert "<|image_pad|>" not in decoded


def test_a_video_solver_answers_and_refuses_confidence(
    make_solver: Callable[..., Solver],
) -> None:
    solver = make_solver(frame_input="video", max_new_tokens=3)
    items = [item(clip(160, 96, 8, 2)), item(clip(96, 96, 4, 3))]
    batched = solver.answer(items)
    alone = [solver.answer([it])[0] for it in items]
    assert [a.reply for a in batched] == [a.reply for a in alone]
    scored = items[0].model_copy(update={"ground_truth": "3"})
    with pytest.raises(ValueError, match="as a video"):
        solver.confidence([scored])
    assert solver.confidence([scored], blind=True)[0].blind


def test_video_input_needs_the_transformers_backend() -> None:
    with pytest.raises(ValueError, match="transformers backend"):
        SolverConfig(model="m", backend="vllm", frame_input="video")
    with pytest.raises(ValueError, match="frame_input"):
        SolverConfig(model="m", frame_input="movie")  # type: ignore[arg-type]


def test_frame_settings_round_trip(tmp_path: Path) -> None:
    assert load_frame_settings(tmp_path) is None
    assert load_frame_settings("Qwen/Qwen3-VL-4B-Instruct") is None
    path = save_frame_settings(tmp_path, FrameSettings(num_frames=4, frame_size=64))
    assert path.name == "frame_settings.json"
    assert load_frame_settings(tmp_path) == FrameSettings(num_frames=4, frame_size=64)
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a valid frame settings file"):
        load_frame_settings(tmp_path)
