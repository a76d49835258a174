"""Frames as one video through the model's own video processor (evaluation's paper protocol).

VSI-Bench's harness hands Qwen-family models the video itself (qwen-vl-utils samples the
frames and `smart_resize`s them, keeping the aspect ratio), not square images. Here the
already sampled frames go to the processor's `videos=` input with their timing, and the
processor does the resizing: Qwen3-VL's video processor with the reference per-frame pixel
cap, so the frames cost the tokens they cost there.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from PIL import Image
from transformers import ProcessorMixin

from agents.solver.frames import ClipTiming

#: Timing for frames that come from no video (ProcSpatial's rendered walkthroughs).
IMAGE_SET_FPS = 1.0


def clip_timing(frames: list[Image.Image], timing: ClipTiming | None) -> ClipTiming:
    """The clip's timing, or one frame per second when the frames come from no video."""
    if timing is not None:
        if len(timing.positions) != len(frames):
            raise ValueError(
                f"{len(frames)} frames but timing for {len(timing.positions)}; "
                "give one position per frame"
            )
        return timing
    return ClipTiming(
        positions=list(range(len(frames))), fps=IMAGE_SET_FPS, total_frames=max(len(frames), 1)
    )


def _accepts(video_processor: Any, name: str) -> bool:
    valid = getattr(video_processor, "valid_kwargs", None)
    annotations = getattr(valid, "__annotations__", {}) if valid is not None else {}
    if name in annotations:
        return True
    return name in inspect.signature(video_processor.preprocess).parameters


def encode_video_batch(
    processor: ProcessorMixin,
    texts: list[str],
    clips: list[list[Image.Image]],
    timings: list[ClipTiming],
    device: torch.device | None = None,
) -> dict[str, Any]:
    """Processor outputs for chat texts that each hold one video placeholder."""
    from transformers.video_utils import VideoMetadata

    video_processor = getattr(processor, "video_processor", None)
    if video_processor is None:
        raise ValueError(
            f"{type(processor).__name__} has no video processor; video input needs a video "
            "model such as Qwen3-VL (use --protocol project for separate images)"
        )
    if any(len(clip) < 2 for clip in clips):
        raise ValueError("video input needs at least 2 frames per question (temporal patches)")
    kwargs: dict[str, Any] = {"do_sample_frames": False}
    if _accepts(video_processor, "cap_pixels_per_frame"):
        kwargs["cap_pixels_per_frame"] = True  # qwen-vl-utils' per-frame budget
    metadata = [
        VideoMetadata(
            total_num_frames=timing.total_frames,
            fps=timing.fps,
            frames_indices=list(timing.positions),
            duration=timing.total_frames / timing.fps,
        )
        for timing in timings
    ]
    encoded = processor(
        text=texts,
        videos=[list(clip) for clip in clips],
        video_metadata=metadata,
        padding=True,
        padding_side="left",
        return_tensors="pt",
        **kwargs,
    )
    if device is None:
        return dict(encoded)
    return {key: value.to(device) for key, value in encoded.items()}
