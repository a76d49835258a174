"""ViLaSR timing: one drawing-solver turn and two tool-GRPO steps at Qwen3-VL-4B size.

GPU run (random weights at Qwen3-VL-4B's sizes, bf16, 448x448 frames):

    .venv/bin/python bench/vilasr_gpu.py --device cuda

CPU smoke run on the tiny model (what the tests exercise):

    .venv/bin/python bench/vilasr_gpu.py --tiny --device cpu

Random weights do not call tools on their own, so the timed turn is a full-length
generation (``--new-tokens``) over the system prompt with the tool schemas, the frames
and one drawn image; the GRPO steps run TRL's tool loop with the drawing environment
(rollouts of ``--completion-tokens``), the reward, and the backward pass.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
for path in (REPO_ROOT, REPO_ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from solver_gpu import build_4b_model, build_tiny  # noqa: E402

from agents.solver.config import SolverConfig  # noqa: E402
from agents.solver.items import SolverItem  # noqa: E402
from agents.solver.tool_chat import make_tool_capable  # noqa: E402
from agents.solver.tool_solver import ToolSolver, ToolSolverConfig  # noqa: E402
from tools.drawing.board import DrawingBoard  # noqa: E402
from training.vilasr.grpo import ToolGRPOSettings, prompt_row, tool_grpo_trainer  # noqa: E402


def noise_frames(count: int, size: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(count)
    ]


def question(frames: list[Image.Image]) -> SolverItem:
    return SolverItem.from_images(
        "If I am standing by the sofa and facing the tv, is the lamp to my left or right?",
        frames,
        "multiple_choice",
        options=["A. left", "B. right"],
        ground_truth="A",
        sample_id="bench",
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_turn(solver: ToolSolver, item: SolverItem, frames: list[Image.Image]) -> dict[str, Any]:
    """One assistant turn after a drawing: the conversation as the second turn sees it."""
    from agents.solver.tool_chat import system_message, tool_call_text, tool_message, user_message

    board = DrawingBoard(frames)
    drawn = board.object_mapper(1, [{"bbox_2d": [10, 10, 120, 120], "label": "sofa"}])
    call = tool_call_text("object_mapper", {"image_index": 1, "objects": []})
    messages = [
        system_message("pixels"),
        user_message(item, frames),
        {"role": "assistant", "content": f"<think>box the sofa</think>\n{call}"},
        tool_message("object_mapper", drawn.content()),
    ]
    images = [*frames, drawn.image]
    inputs = solver._encode(messages, images)
    device = solver.model.device
    solver._generate(messages, images)  # warm-up
    synchronize(device)
    start = time.perf_counter()
    reply = solver._generate(messages, images)
    synchronize(device)
    seconds = time.perf_counter() - start
    assert reply is not None
    return {
        "prompt_tokens": int(inputs["input_ids"].shape[1]),
        "new_tokens": solver.tools.max_new_tokens,  # end of turn disabled: always full length
        "turn_s": round(seconds, 3),
    }


def time_grpo(
    model: Any, processor: Any, frames: list[Image.Image], args: argparse.Namespace
) -> dict[str, Any]:
    settings = ToolGRPOSettings(
        max_steps=2,
        num_generations=args.generations,
        max_turns=args.turns,
        max_completion_length=args.completion_tokens,
        frame_size=args.frame_size,
        bf16=args.device == "cuda",
        gradient_checkpointing=args.device == "cuda",
    )
    row = prompt_row(question(frames), frames, settings.coordinates)
    dataset = datasets.Dataset.from_list([row, row])
    with tempfile.TemporaryDirectory(prefix="vilasr-grpo-") as folder:
        trainer = tool_grpo_trainer(settings, None, dataset, Path(folder), model, processor)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    steps = [e for e in trainer.state.log_history if "loss" in e]
    return {
        "grpo_steps": len(steps),
        "grpo_s_per_step": round(seconds / max(1, len(steps)), 3),
        "tool_calls_per_rollout": [e.get("tools/call_frequency", 0.0) for e in steps],
        "completion_tokens": [e.get("completions/mean_length", 0.0) for e in steps],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="The tiny model (CPU smoke run).")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--frame-size", type=int, default=448)
    parser.add_argument("--new-tokens", type=int, default=256, help="Tokens in the timed turn.")
    parser.add_argument("--generations", type=int, default=4, help="GRPO rollouts per question.")
    parser.add_argument("--turns", type=int, default=3, help="Model turns per GRPO rollout.")
    parser.add_argument("--completion-tokens", type=int, default=512)
    parser.add_argument("--skip-grpo", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    device = torch.device(args.device)
    builder = build_tiny if args.tiny else build_4b_model
    model, processor = builder(device, args.frame_size)
    make_tool_capable(processor, model)
    frames = noise_frames(args.frames, args.frame_size)
    solver = ToolSolver(
        SolverConfig(model="bench", frame_size=args.frame_size),
        ToolSolverConfig(max_new_tokens=args.new_tokens),
        model=model,
        processor=processor,
    )
    model.generation_config.eos_token_id = None  # full-length turns: the time of a long reply
    result: dict[str, Any] = {
        "model": "tiny" if args.tiny else "qwen3-vl-4b-size (random)",
        "device": str(device),
        "frames": args.frames,
        "frame_size": args.frame_size,
        **time_turn(solver, question(frames), frames),
    }
    if not args.skip_grpo:
        model.train()
        result.update(time_grpo(model, processor, frames, args))
    if device.type == "cuda":
        result["peak_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 1)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
