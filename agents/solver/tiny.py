"""A tiny Qwen-VL-architecture solver built from configs, for CPU runs and tests.

Nothing comes from a hub: the tokenizer is a byte-level BPE trained here on the prompt
vocabulary (Qwen's pre-tokenizer and special tokens, a Qwen chat template), the image
processor uses small patches so a 64x64 frame costs 16 tokens, and the model has random
weights. Everything is written with ``save_pretrained`` and loads back through the same
``AutoModelForImageTextToText`` / ``AutoProcessor`` path a real checkpoint uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import torch
from tokenizers import Regex, Tokenizer, pre_tokenizers
from tokenizers.models import BPE
from tokenizers.trainers import BpeTrainer
from transformers import (
    GenerationConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    ProcessorMixin,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLProcessor,
    Qwen2Tokenizer,
    Qwen2VLImageProcessor,
    Qwen2VLVideoProcessor,
    Qwen3VLConfig,
    Qwen3VLForConditionalGeneration,
    Qwen3VLProcessor,
    Qwen3VLVideoProcessor,
)
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

from agents.records import OPTION_LETTERS
from agents.solver.prompts import PROMPT_FILES, load_template

Family = Literal["qwen3_vl", "qwen2_5_vl"]

#: Qwen's special tokens, in Qwen's order (their ids follow the trained vocabulary).
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

#: Indoor categories (VSI-Bench's rooms and the procedural generator's) and question words.
CORPUS_TEXT = (
    "chair table sofa bed desk lamp tv monitor cabinet shelf bookshelf door window sink toilet "
    "bathtub refrigerator stove oven microwave washer dryer trash can bin pillow plant stool "
    "counter dresser nightstand wardrobe mirror picture painting rug curtain radiator fireplace "
    "ceiling light keyboard laptop computer printer backpack box bag suitcase piano couch "
    "armchair ottoman bench "
    "How many are there in this room? What is the distance between the and in meters? "
    "Measuring from the closest point of each object, which of these objects is closest to "
    "farthest from the? What is the length of the longest dimension (length, width, or height) "
    "of in centimeters? What is the size of this room (in square meters)? If multiple rooms are "
    "shown, estimate the size of the combined space. If I am standing by the and facing the, "
    "is the to my left, right, front-left, front-right, back-left, or back-right? The directions "
    "refer to the quadrants of a Cartesian plane. You are a robot beginning at the facing the. "
    "You want to navigate to the. You will perform the following actions (Note: for each "
    "[please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): 1. Go forward "
    "until the 2. [please fill in] 3. Which of the following categories appear first in the "
    "video? What is the order of first appearance? left right front back behind above below "
    "near far larger smaller taller shorter count number size distance direction order route "
    "object objects room meters meter centimeters square"
)


#: How often each extra word is repeated in the corpus, so BPE merges it into one token.
EXTRA_WORD_REPEATS = 20


def tiny_corpus(extra_words: tuple[str, ...] = ()) -> list[str]:
    """Texts the tiny tokenizer is trained on: prompts, questions, options, numbers, letters,
    and `extra_words` repeated until BPE gives each one word a token of its own."""
    lines = [load_template(kind).template for kind in PROMPT_FILES]
    lines.append(CORPUS_TEXT)
    words = CORPUS_TEXT.split()
    lines.extend(
        f"{OPTION_LETTERS[i % len(OPTION_LETTERS)]}. {word}" for i, word in enumerate(words)
    )
    lines.extend(OPTION_LETTERS)
    lines.extend(f"{n} {n / 10:.1f} {n * 0.25:.2f}" for n in range(200))
    if extra_words:
        lines.extend([" ".join(extra_words)] * EXTRA_WORD_REPEATS)
    return lines


def build_tokenizer(
    vocab_size: int = 512, extra_words: tuple[str, ...] = ()
) -> PreTrainedTokenizerBase:
    """A Qwen2-style byte-level BPE tokenizer (any text encodes) with Qwen's special tokens."""
    trainer_model = Tokenizer(BPE())
    trainer_model.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    trainer_model.train_from_iterator(tiny_corpus(extra_words), trainer=trainer)
    trained = json.loads(trainer_model.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in trained["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=trained["vocab"],
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=32768,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS)})
    tokenizer.chat_template = chat_template()
    return tokenizer


def chat_template() -> str:
    return resources.files("agents.solver").joinpath("chat_template.jinja").read_text("utf-8")


@dataclass
class TinySizes:
    """Sizes of the tiny model: a few hundred thousand parameters, 16 tokens per 64x64 frame."""

    hidden_size: int = field(default=64, metadata={"help": "Language model width."})
    num_layers: int = field(default=2, metadata={"help": "Language model decoder layers."})
    num_heads: int = field(default=4, metadata={"help": "Query heads (head_dim 16)."})
    num_kv_heads: int = field(default=2, metadata={"help": "Key/value heads (grouped-query)."})
    intermediate_size: int = field(default=128, metadata={"help": "MLP width."})
    vision_hidden_size: int = field(default=32, metadata={"help": "Vision encoder width."})
    vision_depth: int = field(default=2, metadata={"help": "Vision encoder blocks."})
    patch_size: int = field(default=8, metadata={"help": "Vision patch side in pixels."})
    merge_size: int = field(default=2, metadata={"help": "Patches merged per side per token."})
    deepstack_indexes: tuple[int, ...] | None = field(
        default=None,
        metadata={
            "help": "Vision blocks whose output feeds the language model's first layers "
            "(Qwen3-VL deepstack); None: Qwen's choice, the first blocks."
        },
    )
    initializer_range: float = field(
        default=0.1, metadata={"help": "Weight init std; larger than usual so outputs are peaked."}
    )


def build_processor(
    tokenizer: PreTrainedTokenizerBase,
    family: Family = "qwen3_vl",
    patch_size: int = 8,
    merge_size: int = 2,
    frame_size: int = 64,
) -> ProcessorMixin:
    """The family's processor with small patches; frame_size x frame_size images stay unscaled."""
    factor = patch_size * merge_size
    if frame_size % factor:
        raise ValueError(f"frame_size {frame_size} must be a multiple of patch x merge = {factor}")
    vision: dict[str, Any] = {
        "patch_size": patch_size,
        "merge_size": merge_size,
        "temporal_patch_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "size": {"shortest_edge": factor * factor, "longest_edge": 4 * frame_size * frame_size},
    }
    image_processor = Qwen2VLImageProcessor(**vision)
    if family == "qwen3_vl":
        video_processor = Qwen3VLVideoProcessor(**vision)
        return Qwen3VLProcessor(image_processor, tokenizer, video_processor, chat_template())
    if family == "qwen2_5_vl":
        video_processor = Qwen2VLVideoProcessor(**vision)
        return Qwen2_5_VLProcessor(image_processor, tokenizer, video_processor, chat_template())
    raise ValueError(f"unknown family {family!r}; use 'qwen3_vl' or 'qwen2_5_vl'")


def special_token_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    return {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}


def tiny_model_config(
    tokenizer: PreTrainedTokenizerBase, family: Family = "qwen3_vl", sizes: TinySizes | None = None
) -> Qwen3VLConfig | Qwen2_5_VLConfig:
    """A Qwen3-VL (or Qwen2.5-VL) config with tiny sizes and the tokenizer's special-token ids."""
    sizes = sizes or TinySizes()
    ids = special_token_ids(tokenizer)
    vocab_size = ((len(tokenizer) + 63) // 64) * 64
    head_dim = sizes.hidden_size // sizes.num_heads
    quarter = head_dim // 8
    text: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": sizes.hidden_size,
        "intermediate_size": sizes.intermediate_size,
        "num_hidden_layers": sizes.num_layers,
        "num_attention_heads": sizes.num_heads,
        "num_key_value_heads": sizes.num_kv_heads,
        "max_position_embeddings": 8192,
        "initializer_range": sizes.initializer_range,
        "pad_token_id": ids["<|endoftext|>"],
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10000.0,
            "mrope_section": [head_dim // 2 - 2 * quarter, quarter, quarter],
        },
    }
    vision: dict[str, Any] = {
        "depth": sizes.vision_depth,
        "hidden_size": sizes.vision_hidden_size,
        "intermediate_size": 2 * sizes.vision_hidden_size,
        "num_heads": 2,
        "patch_size": sizes.patch_size,
        "spatial_merge_size": sizes.merge_size,
        "temporal_patch_size": 2,
        "out_hidden_size": sizes.hidden_size,
        "initializer_range": sizes.initializer_range,
    }
    tokens = {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    if family == "qwen3_vl":
        text["head_dim"] = head_dim
        text["rope_parameters"]["mrope_interleaved"] = True
        vision["num_position_embeddings"] = 64
        deepstack = sizes.deepstack_indexes
        vision["deepstack_visual_indexes"] = (
            [0, 1][: sizes.vision_depth] if deepstack is None else list(deepstack)
        )
        return Qwen3VLConfig(text_config=text, vision_config=vision, **tokens)
    if family == "qwen2_5_vl":
        vision["window_size"] = 2 * sizes.patch_size * sizes.merge_size
        vision["fullatt_block_indexes"] = [sizes.vision_depth - 1]
        text["bos_token_id"] = ids["<|endoftext|>"]
        text["eos_token_id"] = ids["<|im_end|>"]
        return Qwen2_5_VLConfig(text_config=text, vision_config=vision, **tokens)
    raise ValueError(f"unknown family {family!r}; use 'qwen3_vl' or 'qwen2_5_vl'")


def build_tiny_model(config: Qwen3VLConfig | Qwen2_5_VLConfig, seed: int = 0) -> PreTrainedModel:
    """Random weights, reproducible from `seed`."""
    torch.manual_seed(seed)
    model_class = (
        Qwen3VLForConditionalGeneration
        if isinstance(config, Qwen3VLConfig)
        else Qwen2_5_VLForConditionalGeneration
    )
    return model_class(config).eval()


def build_tiny_solver(
    path: Path,
    *,
    seed: int = 0,
    family: Family = "qwen3_vl",
    frame_size: int = 64,
    sizes: TinySizes | None = None,
    vocab_size: int = 512,
    extra_words: tuple[str, ...] = (),
) -> Path:
    """Write a tiny model, tokenizer and processor to `path`; load it like any checkpoint."""
    path = Path(path)
    sizes = sizes or TinySizes()
    tokenizer = build_tokenizer(vocab_size, extra_words)
    processor = build_processor(tokenizer, family, sizes.patch_size, sizes.merge_size, frame_size)
    model = build_tiny_model(tiny_model_config(tokenizer, family, sizes), seed)
    ids = special_token_ids(tokenizer)
    model.generation_config = GenerationConfig(
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=False,
    )
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
