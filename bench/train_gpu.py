"""Solver training throughput: plain transformers, TRL's defaults, the project's tuned settings.

GPU run (a Qwen3-VL-4B-sized model with random weights, 16 frames of 448x448, bf16):

    .venv/bin/python bench/train_gpu.py --device cuda --json train_gpu.json

CPU smoke run on the tiny model (what the tests exercise):

    .venv/bin/python bench/train_gpu.py --tiny --device cpu

Rows (full fine-tune, float32 master weights, bf16 autocast on GPU, SDPA):

- plain: a hand-written loop, one question per step, `model(**batch).loss`, torch AdamW.
- TRL defaults: `SFTTrainer` with `SFTConfig` defaults (batch 8, gradient checkpointing,
  its own collator, loss on every token) except `max_length=None` (1024 cuts the frames).
- tuned, unpacked: the project's SFT path (`training.sft`): answer-only loss, TRL's fused
  LM head, gradient checkpointing, fused AdamW (8-bit AdamW and Liger kernels when they
  are installed), batch 8.
- tuned, packed: the same with shared-prefix packing, all questions about a scene in one
  sequence behind one frame prefix (`--questions` per sequence).

Reported per row: tokens/s (tokens actually fed to the model), supervised answers/s, MFU
(3 x the forward FLOPs of backbone plus LM head on the supervised tokens, counted with
torch's FlopCounterMode, per second, over the measured bf16 matmul rate) and peak memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    PreTrainedModel,
    ProcessorMixin,
    Qwen3VLForConditionalGeneration,
    TrainerCallback,
)

BENCH_DIR = Path(__file__).resolve().parent
for folder in (BENCH_DIR, BENCH_DIR.parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import solver_gpu  # noqa: E402  (the 4B config, question templates, timing helpers)

from agents.records import Proposal, Sample  # noqa: E402
from agents.solver.scoring import base_model  # noqa: E402
from agents.solver.tiny import build_processor, build_tiny_solver, build_tokenizer  # noqa: E402
from scenes.noise import write_noise_scene  # noqa: E402
from training.collator import SolverCollator  # noqa: E402
from training.config import SFTSettings  # noqa: E402
from training.sft import sft_dataset, sft_trainer  # noqa: E402

ANCHOR = {
    "row": "plain (anchor, H100, from the issue)",
    "tokens_per_s": 6850.0,
    "mfu": 0.25,
    "peak_gib": 64.0,
    "tokens_per_answer": 3266,
}


# -- data ----------------------------------------------------------------------------
def write_scenes(root: Path, scenes: int, frames: int, frame_size: int) -> Path:
    """Scenes with noise frames on disk (the trainer reads frames from files, as in the loop)."""
    rng = np.random.default_rng(0)
    for s in range(scenes):
        write_noise_scene(
            root / f"scene-{s}",
            f"scene-{s}",
            num_frames=frames,
            width=frame_size,
            height=frame_size,
            seed=rng,
            objects=(),
            seconds_per_frame=1.0,
        )
    return root


def make_samples(scenes: int, questions: int) -> list[Sample]:
    """`questions` accepted samples per scene from VSI-Bench-style templates."""
    samples = []
    for s in range(scenes):
        for q in range(questions):
            text, kind, truth = solver_gpu.QUESTIONS[q % len(solver_gpu.QUESTIONS)]
            proposal = Proposal(
                scene_id=f"scene-{s}",
                question_type="bench",
                question=f"{text} (question {q})",
                options=solver_gpu.OPTIONS if kind == "multiple_choice" else [],
                answer_kind=kind,
                program="def solve(scene):\n    return 0\n",
            )
            sample = Sample.from_proposal(proposal)
            samples.append(sample.model_copy(update={"ground_truth": truth, "verdict": "accepted"}))
    return samples


# -- models --------------------------------------------------------------------------
def fresh_model(args: argparse.Namespace) -> tuple[PreTrainedModel, ProcessorMixin]:
    """float32 master weights on the device (bf16 autocast on GPU), SDPA attention."""
    device = torch.device(args.device)
    if args.tiny:
        with tempfile.TemporaryDirectory(prefix="tiny-solver-") as folder:
            build_tiny_solver(Path(folder), frame_size=args.frame_size)
            model = AutoModelForImageTextToText.from_pretrained(folder, attn_implementation="sdpa")
            processor = AutoProcessor.from_pretrained(folder)
        return model.to(device).train(), processor
    tokenizer = build_tokenizer()
    processor = build_processor(
        tokenizer, "qwen3_vl", patch_size=16, merge_size=2, frame_size=args.frame_size
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen3VLForConditionalGeneration._from_config(
            solver_gpu.qwen3_vl_4b_config(tokenizer),
            dtype=torch.float32,
            attn_implementation="sdpa",
        )
    return model.train(), processor


def release(*objects: Any) -> None:
    del objects
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def autocast(device: torch.device) -> Any:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def useful_flops(model: PreTrainedModel, batch: dict[str, Any], device: torch.device) -> float:
    """3 x forward FLOPs of the backbone plus the LM head on the supervised tokens."""
    inputs = {
        k: v.to(device)
        for k, v in batch.items()
        if isinstance(v, torch.Tensor) and k not in ("labels", "answer_segments", "real_tokens")
    }
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), autocast(device), counter:
        base_model(model)(**inputs, use_cache=False)
    head = model.get_output_embeddings().weight
    supervised = int((batch["labels"][:, 1:] != -100).sum())
    return 3.0 * (counter.get_total_flops() + 2 * head.shape[0] * head.shape[1] * supervised)


def batch_answers(batch: dict[str, Any]) -> int:
    """Questions trained in a batch: one per row, or each packed segment."""
    if "answer_segments" in batch:
        return int(batch["answer_segments"].amax(dim=1).sum())
    return int(batch["input_ids"].shape[0])


def batch_tokens(batch: dict[str, Any]) -> int:
    if "real_tokens" in batch:
        return int(batch["real_tokens"].sum())
    return int(batch["attention_mask"].sum())


# -- rows ----------------------------------------------------------------------------
def measure_plain(args: argparse.Namespace, dataset: Any, rate: float) -> dict[str, Any]:
    """One question per step with a hand-written loop: the anchor's setting."""
    device = torch.device(args.device)
    model, processor = fresh_model(args)
    collator = SolverCollator(processor, args.frame_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    batches = [collator([dataset[i % len(dataset)]]) for i in range(args.warmup + args.steps)]
    for batch in batches:
        batch.pop("sample_ids")
    reset_peak(device)

    def step(batch: dict[str, Any]) -> None:
        with autocast(device):
            inputs = {k: v.to(device) for k, v in batch.items() if k != "answer_segments"}
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for batch in batches[: args.warmup]:
        step(batch)
    solver_gpu.synchronize(device)
    start = time.perf_counter()
    for batch in batches[args.warmup :]:
        step(batch)
    solver_gpu.synchronize(device)
    seconds = time.perf_counter() - start
    measured = batches[args.warmup :]
    flops = useful_flops(model, measured[0], device) * len(measured)
    row = summary("plain (loop, batch 1, all logits)", seconds, measured, flops, rate, device)
    release(model, optimizer)
    return row


class StepTimer(TrainerCallback):
    """Wall-clock of the steps after the warm-up ones (synchronised on GPU)."""

    def __init__(self, device: torch.device, warmup: int) -> None:
        self.device, self.warmup = device, warmup
        self.start: float | None = None
        self.seconds = 0.0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        solver_gpu.synchronize(self.device)
        if state.global_step == self.warmup:
            self.start = time.perf_counter()
        elif state.global_step > self.warmup and self.start is not None:
            self.seconds = time.perf_counter() - self.start


class CountingCollator:
    """Wraps a collator and keeps every batch's tensors for token and FLOP counts."""

    def __init__(self, inner: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
        self.inner = inner
        self.batches: list[dict[str, Any]] = []

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(rows)
        self.batches.append({k: v for k, v in batch.items() if isinstance(v, torch.Tensor)})
        return batch


def measure_trainer(
    name: str, trainer: Any, model: PreTrainedModel, args: argparse.Namespace, rate: float
) -> dict[str, Any]:
    device = torch.device(args.device)
    counting = CountingCollator(trainer.data_collator)
    trainer.data_collator = counting
    timer = StepTimer(device, args.warmup)
    trainer.add_callback(timer)
    reset_peak(device)
    trainer.train()
    measured = (
        counting.batches[args.warmup : args.warmup + args.steps] or counting.batches[-args.steps :]
    )
    flops = useful_flops(model, measured[0], device) * args.steps
    return summary(name, timer.seconds, measured, flops, rate, device)


def trl_defaults(
    model: PreTrainedModel,
    processor: ProcessorMixin,
    dataset: Any,
    args: argparse.Namespace,
    out: Path,
) -> Any:
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(
        output_dir=str(out / "trl-defaults"),
        max_steps=args.warmup + args.steps,
        max_length=None,
        bf16=args.device.startswith("cuda"),
        use_cpu=args.device == "cpu",
        save_strategy="no",
        report_to="none",
        per_device_train_batch_size=args.batch,
    )
    messages = dataset.select_columns(["messages", "images"])
    return SFTTrainer(model=model, args=config, train_dataset=messages, processing_class=processor)


def tuned_settings(args: argparse.Namespace, packed: bool) -> SFTSettings:
    cuda = args.device.startswith("cuda")
    optim = "adamw_torch_fused" if cuda else "adamw_torch"
    if cuda and installed("bitsandbytes"):
        optim = "adamw_8bit"
    return SFTSettings(
        model="bench",
        steps_per_iteration=args.warmup + args.steps,
        global_batch_size=1 if packed else args.batch,
        per_device_batch_size=1 if packed else args.batch,
        questions_per_sequence=args.questions if packed else 1,
        num_frames=args.frames,
        frame_size=args.frame_size,
        optim=optim,
        bf16=cuda,
        gradient_checkpointing=True,
        record_confidence=False,
        trainer_args={"use_cpu": not cuda, "save_strategy": "no"},
    )


def installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def apply_liger(model: PreTrainedModel) -> str:
    """Liger's Triton kernels (RMSNorm, SwiGLU, RoPE) when the package is installed."""
    if not (installed("liger_kernel") and torch.cuda.is_available()):
        return "not installed"
    try:
        from liger_kernel.transformers import _apply_liger_kernel_to_instance

        # TRL's fused LM head computes the loss; Liger's cross-entropy kernels stay off
        _apply_liger_kernel_to_instance(
            model=model, cross_entropy=False, fused_linear_cross_entropy=False
        )
    except Exception as error:  # a kernel set that does not fit this model: run without it
        return f"failed ({type(error).__name__}: {error})"
    return "on"


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def summary(
    name: str,
    seconds: float,
    batches: list[dict[str, Any]],
    flops: float,
    rate: float,
    device: torch.device,
) -> dict[str, Any]:
    tokens = sum(batch_tokens(b) for b in batches)
    answers = sum(batch_answers(b) for b in batches)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return {
        "row": name,
        "tokens_per_s": tokens / seconds,
        "answers_per_s": answers / seconds,
        "tokens_per_answer": tokens / answers,
        "mfu": flops / seconds / rate,
        "peak_gib": peak,
        "seconds": seconds,
    }


def guarded(name: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A row, or the row's failure when the GPU runs out of memory (the other rows still run)."""
    try:
        return measure()
    except torch.cuda.OutOfMemoryError as error:
        message = f"out of memory: {str(error).splitlines()[0]}"
    release()  # after the except block, so the traceback no longer holds the model
    return {"row": name, "error": message}


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device)
    rate = solver_gpu.matmul_rate(
        device, torch.bfloat16 if device.type == "cuda" else torch.float32
    )
    rows: list[dict[str, Any]] = []
    setup: dict[str, Any] = {"liger": "not installed", "optimizer": "-"}
    with tempfile.TemporaryDirectory(prefix="train-bench-") as folder:
        out = Path(folder)
        scene_root = write_scenes(out / "scenes", args.scenes, args.frames, args.frame_size)
        samples = make_samples(args.scenes, args.questions)
        unpacked = sft_dataset(tuned_settings(args, packed=False), samples, scene_root)
        rows.append(guarded("plain", lambda: measure_plain(args, unpacked, rate)))

        def defaults() -> dict[str, Any]:
            model, processor = fresh_model(args)
            trainer = trl_defaults(model, processor, unpacked, args, out)
            row = measure_trainer(f"TRL defaults (batch {args.batch})", trainer, model, args, rate)
            release(model, trainer)
            return row

        rows.append(guarded("TRL defaults", defaults))

        def tuned(packed: bool) -> dict[str, Any]:
            settings = tuned_settings(args, packed)
            model, processor = fresh_model(args)
            setup["liger"] = apply_liger(model)
            dataset = sft_dataset(settings, samples, scene_root)
            trainer = sft_trainer(
                settings,
                model,
                processor,
                dataset,
                out / f"tuned-{packed}",
                settings.steps_per_iteration,
                False,
            )
            setup["optimizer"] = getattr(trainer.args.optim, "value", trainer.args.optim)
            label = (
                f"tuned, packed ({args.questions} questions per sequence)"
                if packed
                else f"tuned, unpacked (batch {args.batch})"
            )
            row = measure_trainer(label, trainer, model, args, rate)
            release(model, trainer)
            return row

        rows.append(guarded("tuned, unpacked", lambda: tuned(False)))
        rows.append(guarded("tuned, packed", lambda: tuned(True)))
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "model": "tiny Qwen3-VL" if args.tiny else "Qwen3-VL-4B sizes, random weights",
        "frames": args.frames,
        "frame_size": args.frame_size,
        "questions_per_scene": args.questions,
        "matmul_tflops": rate / 1e12,
        "tuned_optimizer": setup["optimizer"],
        "liger": setup["liger"],
        "rows": rows,
    }


def format_table(report: dict[str, Any]) -> str:
    lines = [
        f"device: {report['device']} | model: {report['model']} | {report['frames']} frames of "
        f"{report['frame_size']}x{report['frame_size']} | {report['questions_per_scene']} questions "
        f"per scene | matmul {report['matmul_tflops']:.3g} TFLOP/s | tuned optimizer "
        f"{report['tuned_optimizer']}, Liger {report['liger']}",
        "",
        "| row | tokens/s | answers/s | tokens per answer | MFU | peak memory |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        if "error" in row:
            lines.append(f"| {row['row']} | {row['error']} | - | - | - | - |")
            continue
        peak = f"{row['peak_gib']:.1f} GiB" if row.get("peak_gib") is not None else "-"
        lines.append(
            f"| {row['row']} | {row['tokens_per_s']:.0f} | {row['answers_per_s']:.2f} | "
            f"{row['tokens_per_answer']:.0f} | {row['mfu']:.1%} | {peak} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = solver_gpu.bench_parser(__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=None, help="scenes (8; tiny: 2)")
    parser.add_argument(
        "--questions", type=int, default=None, help="questions per scene (16; tiny: 4)"
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="batch of the unpacked rows (8; tiny: 2)"
    )
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps (2; tiny: 1)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (5; tiny: 2)")
    defaults = {
        "scenes": (8, 2),
        "questions": (16, 4),
        "batch": (8, 2),
        "warmup": (2, 1),
        "steps": (5, 2),
    }
    return solver_gpu.parse_sized(parser, argv, defaults)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run_benchmark(args)
    report["anchor"] = ANCHOR
    print(format_table(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return report


if __name__ == "__main__":
    main()
