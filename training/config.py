"""Training settings: one dataclass per method, every field with help text.

`SFTSettings` defaults follow the paper for real checkpoints (constant learning rate
1e-6, no warm-up, global batch 64, 100 steps per loop iteration); `GRPOSettings` follow
the Actial / ViLaSR recipes. `.tiny()` gives settings that train the tiny solver on a CPU
in seconds. Any other TRL / transformers argument goes through `trainer_args`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Literal

Method = Literal["sft", "grpo"]
AnswerFormat = Literal["plain", "tags"]
VLLMMode = Literal["colocate", "server"]

#: The language model's projections (Qwen-VL names); the vision tower uses other names.
LORA_TARGET_MODULES: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)


@dataclass
class CommonSettings:
    """What SFT and GRPO share: model, batch, schedule, precision, frames, checkpoints."""

    model: str = field(
        default="",
        metadata={"help": "Starting checkpoint (local folder or hub id) for the first iteration."},
    )
    learning_rate: float = field(default=1e-6, metadata={"help": "Peak learning rate (AdamW)."})
    lr_scheduler_type: str = field(
        default="constant",
        metadata={
            "help": "transformers scheduler name; 'constant' keeps the rate across iterations."
        },
    )
    warmup_steps: int = field(default=0, metadata={"help": "Warm-up steps (the paper uses none)."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    optim: str = field(
        default="auto",
        metadata={
            "help": "transformers optimizer name; 'auto' is 'adamw_torch_fused' on CUDA and "
            "'adamw_torch' elsewhere ('adamw_8bit' needs the gpu extra)."
        },
    )
    global_batch_size: int = field(
        default=64,
        metadata={
            "help": "Sequences per optimizer step over all devices (GRPO: completions); gradient "
            "accumulation is derived from it."
        },
    )
    per_device_batch_size: int = field(
        default=1, metadata={"help": "Sequences per forward pass on one device."}
    )
    steps_per_iteration: int = field(
        default=100, metadata={"help": "Optimizer steps per loop iteration."}
    )
    num_frames: int = field(
        default=16, metadata={"help": "Frames per sample when its proposal names none (uniform)."}
    )
    frame_size: int = field(
        default=448,
        metadata={
            "help": "Frames are resized to frame_size x frame_size (as the solver does), so every "
            "sample has the same number of image tokens."
        },
    )
    model_dtype: str = field(
        default="float32",
        metadata={
            "help": "dtype of the weights in memory. float32 master weights keep updates at lr 1e-6 "
            "from vanishing in bfloat16 rounding; bf16 autocast still runs the matmuls in bfloat16."
        },
    )
    bf16: bool | None = field(
        default=None, metadata={"help": "bfloat16 mixed precision; None: on when CUDA supports it."}
    )
    gradient_checkpointing: bool = field(
        default=True, metadata={"help": "Recompute activations in the backward pass (less memory)."}
    )
    attn_implementation: str = field(
        default="sdpa", metadata={"help": "'sdpa', 'flash_attention_2', 'eager'."}
    )
    freeze_vision_tower: bool = field(
        default=False,
        metadata={
            "help": "Freeze the vision encoder (patch embedding and blocks); the merger that "
            "projects into the language model keeps training."
        },
    )
    freeze_projector: bool = field(
        default=False,
        metadata={
            "help": "With freeze_vision_tower, freeze the mergers into the language model too "
            "(keeps what a pretrained tower's mergers learned, as the seeing tiny solver's)."
        },
    )
    lora: bool = field(
        default=False, metadata={"help": "Train LoRA adapters (PEFT) instead of all weights."}
    )
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator."})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: list(LORA_TARGET_MODULES),
        metadata={"help": "Module names that get adapters (the language model's projections)."},
    )
    only_accepted: bool = field(
        default=True, metadata={"help": "Train only on samples the verifier accepted."}
    )
    save_steps: int | None = field(
        default=None,
        metadata={
            "help": "Extra checkpoints every N steps inside an iteration (for crash recovery); the "
            "last step of every iteration is always saved."
        },
    )
    logging_steps: int = field(default=1, metadata={"help": "Log the loss every N steps."})
    seed: int = field(default=0, metadata={"help": "Seed for data order and initialisation."})
    dataloader_num_workers: int = field(
        default=0, metadata={"help": "Worker processes that load and resize frames."}
    )
    report_to: str = field(
        default="none", metadata={"help": "'none', 'tensorboard', 'wandb', ... (transformers)."}
    )
    trainer_args: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Any other SFTConfig / GRPOConfig field, passed through as is."},
    )

    method: Method = field(init=False, default="sft")

    def __post_init__(self) -> None:
        if self.per_device_batch_size < 1 or self.global_batch_size < 1:
            raise ValueError("global_batch_size and per_device_batch_size must be >= 1")
        if self.steps_per_iteration < 1:
            raise ValueError(f"steps_per_iteration must be >= 1, got {self.steps_per_iteration}")
        if self.frame_size < 1 or self.num_frames < 1:
            raise ValueError("frame_size and num_frames must be >= 1")

    def gradient_accumulation_steps(self, world_size: int | None = None) -> int:
        """Accumulation that turns per-device batches into the global batch; errors if it cannot."""
        world_size = world_size or int(os.environ.get("WORLD_SIZE", "1"))
        per_step = self.per_device_batch_size * world_size
        if self.global_batch_size % per_step:
            raise ValueError(
                f"global_batch_size {self.global_batch_size} is not a multiple of "
                f"per_device_batch_size {self.per_device_batch_size} x {world_size} devices; "
                "change one of them"
            )
        return self.global_batch_size // per_step

    def replace(self, **changes: Any) -> Any:
        return dataclasses.replace(self, **changes)


#: Overrides that make training the tiny solver on a CPU take seconds (tests, smoke runs).
TINY_OVERRIDES: dict[str, Any] = {
    "learning_rate": 1e-3,
    "global_batch_size": 4,
    "per_device_batch_size": 4,
    "steps_per_iteration": 4,
    "num_frames": 4,
    "frame_size": 64,
    "bf16": False,
    "gradient_checkpointing": False,
}


@dataclass
class SFTSettings(CommonSettings):
    """Supervised fine-tuning on accepted samples (the paper's method; the loop's default)."""

    train_end_of_turn: bool = field(
        default=True,
        metadata={
            "help": "Also train the end-of-turn token after the answer (the model learns to stop); "
            "the prompt and frames never carry loss."
        },
    )
    include_end_of_turn: bool = field(
        default=False,
        metadata={
            "help": "Count the end-of-turn token in the recorded confidence (keep equal to the "
            "solver's setting of the same name)."
        },
    )
    record_confidence: bool = field(
        default=True,
        metadata={"help": "Record each sample's confidence from the training forward pass."},
    )
    questions_per_sequence: int = field(
        default=1,
        metadata={
            "help": "Pack up to this many questions about the same frames into one sequence behind "
            "one frame prefix (1: no packing). Batch sizes then count packed sequences. Needs "
            "attn_implementation 'sdpa' or 'eager'."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.method = "sft"
        if self.questions_per_sequence < 1:
            raise ValueError(
                f"questions_per_sequence must be >= 1, got {self.questions_per_sequence}"
            )

    @classmethod
    def tiny(cls, **overrides: Any) -> SFTSettings:
        return cls(**{**TINY_OVERRIDES, **overrides})


@dataclass
class GRPOSettings(CommonSettings):
    """Group-relative policy optimisation with verifiable rewards (Actial, ViLaSR)."""

    rewards: list[str] = field(
        default_factory=lambda: ["accuracy", "gated_format"],
        metadata={"help": "Names in training.rewards.REWARDS; their weighted sum is the reward."},
    )
    reward_weights: list[float] | None = field(
        default=None, metadata={"help": "One weight per reward (None: all 1)."}
    )
    answer_format: AnswerFormat = field(
        default="tags",
        metadata={
            "help": "'tags': the solver's prompt plus an instruction to answer inside "
            "<answer></answer> (the format reward needs it); 'plain': the solver's prompt only."
        },
    )
    num_generations: int = field(default=8, metadata={"help": "Completions sampled per prompt."})
    max_completion_length: int = field(
        default=512, metadata={"help": "Longest completion, in tokens."}
    )
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature of rollouts."})
    beta: float = field(
        default=0.0,
        metadata={"help": "KL coefficient against the starting model (0: no reference)."},
    )
    use_vllm: bool = field(
        default=False,
        metadata={"help": "Generate rollouts with vLLM (needs the vllm extra, a GPU)."},
    )
    vllm_mode: VLLMMode = field(
        default="colocate",
        metadata={
            "help": "'colocate': vLLM shares the training GPUs; 'server': a separate "
            "'trl vllm-serve' process (see docs/training.md)."
        },
    )
    vllm_server_host: str = field(
        default="0.0.0.0", metadata={"help": "vLLM server host (server mode)."}
    )
    vllm_server_port: int = field(
        default=8000, metadata={"help": "vLLM server port (server mode)."}
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.3, metadata={"help": "GPU memory share vLLM may claim (colocate mode)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.method = "grpo"
        if self.num_generations < 2:
            raise ValueError("num_generations must be >= 2: GRPO compares completions in a group")
        if self.reward_weights is not None and len(self.reward_weights) != len(self.rewards):
            raise ValueError(
                f"reward_weights has {len(self.reward_weights)} entries for {len(self.rewards)} rewards"
            )
        if self.answer_format not in ("plain", "tags"):
            raise ValueError(f"answer_format must be 'plain' or 'tags', got {self.answer_format!r}")
        if self.vllm_mode not in ("colocate", "server"):
            raise ValueError(f"vllm_mode must be 'colocate' or 'server', got {self.vllm_mode!r}")

    @classmethod
    def tiny(cls, **overrides: Any) -> GRPOSettings:
        base = {
            **TINY_OVERRIDES,
            "learning_rate": 1e-2,
            "num_generations": 4,
            "max_completion_length": 8,
            "global_batch_size": 8,
            "per_device_batch_size": 8,
            "steps_per_iteration": 2,
        }
        return cls(**{**base, **overrides})
