"""Solver settings: which model, where it runs, how frames are sampled and batched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from agents.solver.frames import FrameInput

Backend = Literal["transformers", "vllm", "vilasr"]
PaddingSide = Literal["left", "right"]


@dataclass
class SolverConfig:
    """Everything the solver needs to load a model and score or answer questions."""

    model: str = field(
        default="",
        metadata={
            "help": "Local folder or hub id of an image-text-to-text model (Qwen3-VL default)."
        },
    )
    backend: Backend = field(
        default="transformers",
        metadata={
            "help": "'transformers' (any device), 'vllm' (GPU, needs the vllm extra) or 'vilasr' "
            "(multi-turn, draws with tools between turns; see docs/vilasr.md)."
        },
    )
    device: str = field(
        default="auto",
        metadata={"help": "'auto' (cuda when available), 'cpu', 'cuda', 'cuda:1'..."},
    )
    dtype: str = field(
        default="auto",
        metadata={
            "help": "'auto' (bfloat16 on GPU, float32 on CPU), 'bfloat16', 'float16', 'float32'."
        },
    )
    attn_implementation: str = field(
        default="sdpa",
        metadata={"help": "Attention kernel passed to from_pretrained ('sdpa', 'eager')."},
    )
    num_frames: int = field(
        default=16,
        metadata={
            "help": "Frames sampled uniformly over the trajectory when a question names none."
        },
    )
    frame_size: int = field(
        default=448,
        metadata={
            "help": "Frames are resized to frame_size x frame_size pixels (a multiple of the model's "
            "patch size x merge size), so every sample has the same number of image tokens."
        },
    )
    frame_input: FrameInput = field(
        default="images",
        metadata={
            "help": "'images': frames as separate frame_size squares (training, the loop); 'video': "
            "one video through the model's video processor, aspect ratio kept (answer() only; "
            "evaluation's paper protocol)."
        },
    )
    max_new_tokens: int = field(
        default=16, metadata={"help": "Greedy generation budget for answer() (VSI-Bench uses 16)."}
    )
    batch_size: int = field(
        default=4, metadata={"help": "Samples per forward pass when nothing is shared."}
    )
    share_prefix: bool = field(
        default=True,
        metadata={
            "help": "Score questions about the same frames from one cached prefix (exact; much faster)."
        },
    )
    questions_per_forward: int = field(
        default=32,
        metadata={"help": "Question suffixes batched over one shared prefix per forward pass."},
    )
    padding_side: PaddingSide = field(
        default="left",
        metadata={
            "help": "Padding side for unshared scoring batches (results do not depend on it)."
        },
    )
    include_end_of_turn: bool = field(
        default=False,
        metadata={
            "help": "Also count the end-of-turn token after the answer in the confidence mean "
            "(off: only the answer's own tokens count, as in the design)."
        },
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.85, metadata={"help": "Fraction of GPU memory vLLM may claim (vllm backend)."}
    )
    vllm_max_model_len: int = field(
        default=16384, metadata={"help": "Longest prompt vLLM accepts, in tokens (vllm backend)."}
    )

    def __post_init__(self) -> None:
        if self.num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {self.num_frames}")
        if self.frame_size < 1:
            raise ValueError(f"frame_size must be >= 1 pixel, got {self.frame_size}")
        if self.batch_size < 1 or self.questions_per_forward < 1:
            raise ValueError("batch_size and questions_per_forward must be >= 1")
        if self.padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {self.padding_side!r}")
        if self.frame_input not in ("images", "video"):
            raise ValueError(f"frame_input must be 'images' or 'video', got {self.frame_input!r}")
        if self.frame_input == "video" and self.backend != "transformers":
            raise ValueError(
                "frame_input='video' (evaluation's paper and lmms-eval protocols) needs the "
                "transformers backend; use --backend transformers, or --protocol project"
            )
        if self.backend not in ("transformers", "vllm", "vilasr"):
            raise ValueError(
                f"backend must be 'transformers', 'vllm' or 'vilasr', got {self.backend!r}"
            )
