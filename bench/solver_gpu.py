"""Solver confidence throughput: naive, batched, prefix-shared, against the compute floor.

GPU run (a Qwen3-VL-4B-sized model with random weights, 16 frames of 448x448, bf16):

    .venv/bin/python bench/solver_gpu.py --device cuda

CPU smoke run on the tiny model (what the tests exercise):

    .venv/bin/python bench/solver_gpu.py --tiny --device cpu

Rows: naive (one sample per forward), batched without sharing, prefix-shared (all the
questions about a scene against one cached frame prefix), and the compute floor: model
FLOPs per sample (counted with torch's FlopCounterMode on the real forward passes)
divided by the measured matmul rate. The shared row's results are checked against the
naive row's (largest difference in mean log-probability).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    ProcessorMixin,
    Qwen3VLConfig,
    Qwen3VLForConditionalGeneration,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from agents.solver.config import SolverConfig  # noqa: E402
from agents.solver.encoding import encode_ids, scoring_text  # noqa: E402
from agents.solver.items import SolverItem  # noqa: E402
from agents.solver.prefix import split_at_last_image, vision_end_marker  # noqa: E402
from agents.solver.solver import Solver  # noqa: E402
from agents.solver.tiny import (  # noqa: E402
    build_processor,
    build_tiny_solver,
    build_tokenizer,
    special_token_ids,
)

#: Qwen3-VL-4B-Instruct's published config sizes (config.json of the hub checkpoint).
QWEN3_VL_4B_TEXT = {
    "vocab_size": 151936,
    "hidden_size": 2560,
    "intermediate_size": 9728,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 262144,
    "rms_norm_eps": 1e-6,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 5_000_000.0,
        "mrope_section": [24, 20, 20],
        "mrope_interleaved": True,
    },
}
QWEN3_VL_4B_VISION = {
    "depth": 24,
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_heads": 16,
    "patch_size": 16,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "out_hidden_size": 2560,
    "num_position_embeddings": 2304,
    "deepstack_visual_indexes": [5, 11, 17],
    "hidden_act": "gelu_pytorch_tanh",
}

QUESTIONS = [
    ("How many chair(s) are in this room?", "numeric", "4"),
    ("What is the distance between the sofa and the tv (in meters)?", "numeric", "2.7"),
    (
        "Measuring from the closest point of each object, which of these objects is closest to the bed?",
        "multiple_choice",
        "B",
    ),
    (
        "What is the length of the longest dimension (length, width, or height) of the table, in "
        "centimeters?",
        "numeric",
        "152",
    ),
    (
        "If I am standing by the door and facing the window, is the lamp to my left, right, or back?",
        "multiple_choice",
        "C",
    ),
    ("Which of the following categories appear first in the video?", "multiple_choice", "A"),
    ("What is the size of this room (in square meters)?", "numeric", "23.5"),
    ("Which object is the farthest from the sink?", "multiple_choice", "D"),
]
OPTIONS = ["A. chair", "B. table", "C. lamp", "D. sofa"]


def qwen3_vl_4b_config(tokenizer: PreTrainedTokenizerBase) -> Qwen3VLConfig:
    """Qwen3-VL-4B's sizes with the offline tokenizer's special-token ids."""
    ids = special_token_ids(tokenizer)
    return Qwen3VLConfig(
        text_config={**QWEN3_VL_4B_TEXT, "pad_token_id": ids["<|endoftext|>"]},
        vision_config=QWEN3_VL_4B_VISION,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )


def build_4b_model(device: torch.device, frame_size: int) -> tuple[PreTrainedModel, ProcessorMixin]:
    """Random-weight Qwen3-VL-4B (real sizes) in bf16 + SDPA, with an offline processor."""
    tokenizer = build_tokenizer()
    processor = build_processor(
        tokenizer, "qwen3_vl", patch_size=16, merge_size=2, frame_size=frame_size
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen3VLForConditionalGeneration._from_config(
            qwen3_vl_4b_config(tokenizer), dtype=torch.bfloat16, attn_implementation="sdpa"
        )
    return model.eval(), processor


def build_tiny(device: torch.device, frame_size: int) -> tuple[PreTrainedModel, ProcessorMixin]:
    """The tiny solver, built in a temporary folder and loaded like a checkpoint."""
    with tempfile.TemporaryDirectory(prefix="tiny-solver-") as folder:
        build_tiny_solver(Path(folder), frame_size=frame_size)
        model = AutoModelForImageTextToText.from_pretrained(folder, attn_implementation="sdpa")
        processor = AutoProcessor.from_pretrained(folder)
    return model.to(device).eval(), processor


def make_items(scenes: int, questions: int, frames: int, frame_size: int) -> list[SolverItem]:
    """`questions` per scene, cycling through VSI-Bench-style templates; noise frames per scene."""
    rng = np.random.default_rng(0)
    items = []
    for scene in range(scenes):
        images = [
            Image.fromarray(rng.integers(0, 256, (frame_size, frame_size, 3), dtype=np.uint8))
            for _ in range(frames)
        ]
        for q in range(questions):
            text, kind, truth = QUESTIONS[q % len(QUESTIONS)]
            items.append(
                SolverItem.from_images(
                    f"{text} (scene {scene}, question {q})",
                    images,
                    kind,  # type: ignore[arg-type]
                    options=OPTIONS if kind == "multiple_choice" else None,
                    ground_truth=truth,
                    sample_id=f"s{scene}q{q}",
                    frames_key=f"scene-{scene}",
                )
            )
    return items


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, run: Callable[[], object]) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    result = run()
    synchronize(device)
    return time.perf_counter() - start, result


def matmul_rate(device: torch.device, dtype: torch.dtype) -> float:
    """Measured dense matmul throughput in FLOP/s (the floor's denominator)."""
    n = 8192 if device.type == "cuda" else 512
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    repeats = 20 if device.type == "cuda" else 5
    seconds, _ = timed(device, lambda: [a @ b for _ in range(repeats)])
    return 2 * n**3 * repeats / seconds


def counted_flops(run: Callable[[], object]) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return counter.get_total_flops()


def run_benchmark(args: argparse.Namespace) -> dict[str, object]:
    device = torch.device(args.device)
    if args.tiny:
        model, processor = build_tiny(device, args.frame_size)
    else:
        model, processor = build_4b_model(device, args.frame_size)
    base = SolverConfig(model="bench", device=args.device, frame_size=args.frame_size)
    configs = {
        "naive": dataclasses.replace(base, share_prefix=False, batch_size=1),
        "batched": dataclasses.replace(base, share_prefix=False, batch_size=args.batch),
        "shared": dataclasses.replace(
            base, share_prefix=True, questions_per_forward=args.questions
        ),
    }
    labels = {
        "naive": "naive (1 sample per forward)",
        "batched": f"batched ({args.batch} per forward, no sharing)",
        "shared": f"prefix-shared ({args.questions} questions per scene)",
    }
    items = make_items(args.scenes, args.questions, args.frames, args.frame_size)
    warmup = make_items(1, 2, args.frames, args.frame_size)
    solvers = {name: Solver(config, model, processor) for name, config in configs.items()}
    results, rates = {}, {}
    for name, solver in solvers.items():
        solver.confidence(warmup)
        seconds, results[name] = timed(device, lambda s=solver: s.confidence(items))
        rates[name] = len(items) / seconds

    one_scene = items[: args.questions]
    flops_full = counted_flops(lambda: solvers["naive"].confidence(one_scene[:1]))
    flops_shared = counted_flops(lambda: solvers["shared"].confidence(one_scene)) / len(one_scene)
    rate = matmul_rate(device, model.dtype)
    floors = {"full": rate / flops_full, "shared": rate / flops_shared}
    rows = [
        {
            "row": labels[name],
            "samples_per_s": rates[name],
            "x_naive": rates[name] / rates["naive"],
            "of_full_floor": rates[name] / floors["full"],
            "of_shared_floor": rates[name] / floors["shared"],
        }
        for name in configs
    ]
    for name, label in [("full", "full sequence per sample"), ("shared", "prefix shared")]:
        rows.append(
            {
                "row": f"compute floor, {label}",
                "samples_per_s": floors[name],
                "x_naive": floors[name] / rates["naive"],
            }
        )
    deviation = max(
        abs(a.mean_log_prob - b.mean_log_prob)
        for a, b in zip(results["naive"], results["shared"], strict=True)
    )
    prefix_tokens, sample_tokens = token_counts(processor, one_scene, solvers["naive"])
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "model": "tiny Qwen3-VL" if args.tiny else "Qwen3-VL-4B sizes, random weights",
        "dtype": str(model.dtype).removeprefix("torch."),
        "frames": args.frames,
        "frame_size": args.frame_size,
        "prefix_tokens": prefix_tokens,
        "tokens_per_sample": sample_tokens,
        "samples": len(items),
        "matmul_tflops": rate / 1e12,
        "flops_per_sample_full": flops_full,
        "flops_per_sample_shared": flops_shared,
        "max_shared_vs_naive_log_prob_diff": deviation,
        "rows": rows,
    }


def token_counts(
    processor: ProcessorMixin, items: list[SolverItem], solver: Solver
) -> tuple[int, float]:
    """Tokens of the shared frame prefix, and mean tokens of a whole sample."""
    images = solver.frames.load(items[0])
    marker = vision_end_marker(solver.model, processor)
    texts = [scoring_text(processor, item, len(images)) for item in items]
    prefix_text = split_at_last_image(texts[0].full_text, marker)[0]
    prefix = processor(text=[prefix_text], images=[images], return_tensors="pt")["input_ids"]
    suffixes = [
        encode_ids(processor.tokenizer, split_at_last_image(t.full_text, marker)[1]) for t in texts
    ]
    return prefix.shape[1], prefix.shape[1] + sum(map(len, suffixes)) / len(suffixes)


def format_table(report: dict) -> str:
    lines = [
        f"device: {report['device']} | model: {report['model']} ({report['dtype']}) | "
        f"{report['frames']} frames of {report['frame_size']}x{report['frame_size']} | "
        f"{report['tokens_per_sample']:.0f} tokens per sample, {report['prefix_tokens']} in the "
        f"frame prefix | {report['samples']} samples",
        f"matmul rate: {report['matmul_tflops']:.3g} TFLOP/s | FLOPs per sample: "
        f"{report['flops_per_sample_full'] / 1e9:.4g} G full, "
        f"{report['flops_per_sample_shared'] / 1e9:.4g} G shared | "
        f"shared vs naive max |d log p|: {report['max_shared_vs_naive_log_prob_diff']:.2e}",
        "",
        "| row | samples/s | x naive | of full-sequence floor | of shared floor |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        full = f"{row['of_full_floor']:.1%}" if "of_full_floor" in row else "-"
        shared = f"{row['of_shared_floor']:.1%}" if "of_shared_floor" in row else "-"
        lines.append(
            f"| {row['row']} | {row['samples_per_s']:.2f} | {row['x_naive']:.1f}x | {full} | {shared} |"
        )
    return "\n".join(lines)


def bench_parser(description: str) -> argparse.ArgumentParser:
    """The options every GPU benchmark takes (this one and train_gpu.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tiny", action="store_true", help="tiny model instead of the 4B sizes")
    parser.add_argument("--device", default="cuda", help="cuda, cuda:1, cpu")
    parser.add_argument("--frames", type=int, default=None, help="frames per sample (16; tiny: 4)")
    parser.add_argument("--frame-size", type=int, default=None, help="pixels (448; tiny: 64)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    return parser


def parse_sized(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    defaults: dict[str, tuple[int, int]],
) -> argparse.Namespace:
    """Parse `argv`; options left unset take their (full, tiny) default; cuda needs a GPU."""
    args = parser.parse_args(argv)
    for name, (full, tiny) in {"frames": (16, 4), "frame_size": (448, 64), **defaults}.items():
        if getattr(args, name) is None:
            setattr(args, name, tiny if args.tiny else full)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA GPU visible; run with --tiny --device cpu for the CPU path")
    return args


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = bench_parser(__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=None, help="scenes (2)")
    parser.add_argument(
        "--questions", type=int, default=None, help="questions per scene (32; tiny: 8)"
    )
    parser.add_argument("--batch", type=int, default=4, help="samples per forward, batched row")
    return parse_sized(parser, argv, {"scenes": (2, 2), "questions": (32, 8)})


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    report = run_benchmark(args)
    print(format_table(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report


if __name__ == "__main__":
    main()
