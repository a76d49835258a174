"""The tiny builder writes a real checkpoint folder that loads like a hub model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, PreTrainedModel, ProcessorMixin

from agents.solver.backends import load_solver
from agents.solver.config import SolverConfig
from agents.solver.solver import Solver, load_model
from agents.solver.tiny import SPECIAL_TOKENS, build_tiny_solver


def test_folder_round_trips_through_from_pretrained(
    tiny_solver_dir: Path, tiny_model: tuple[PreTrainedModel, ProcessorMixin]
) -> None:
    names = {p.name for p in tiny_solver_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "processor_config.json"} <= names
    model, processor = tiny_model
    assert type(model).__name__ == "Qwen3VLForConditionalGeneration"
    assert type(processor).__name__ == "Qwen3VLProcessor"
    parameters = sum(p.numel() for p in model.parameters())
    assert 100_000 < parameters < 1_000_000
    tokenizer = processor.tokenizer
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    assert len(set(ids.values())) == len(SPECIAL_TOKENS)
    assert max(ids.values()) < model.config.text_config.vocab_size
    assert model.config.image_token_id == ids["<|image_pad|>"]
    assert model.config.vision_end_token_id == ids["<|vision_end|>"]
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"


def test_tokenizer_is_byte_level_and_keeps_digits_apart(
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
) -> None:
    tokenizer = tiny_model[1].tokenizer
    text = "Wie weit ist die Küche? 12.75 m"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert [
        tokenizer.decode([i]) for i in tokenizer("2025", add_special_tokens=False)["input_ids"]
    ] == list("2025")


def test_a_64_pixel_frame_costs_16_tokens(
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
) -> None:
    processor = tiny_model[1]
    image = Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8))
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi"}]}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert (
        text
        == "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Hi<|im_end|>\n<|im_start|>assistant\n"
    )
    inputs = processor(text=[text], images=[[image]], return_tensors="pt")
    assert int((inputs["input_ids"] == processor.image_token_id).sum()) == 16
    assert inputs["image_grid_thw"].tolist() == [[1, 8, 8]]


def test_seed_fixes_the_weights(tmp_path: Path, tiny_solver_dir: Path) -> None:
    again = build_tiny_solver(tmp_path / "again", seed=0)
    other = build_tiny_solver(tmp_path / "other", seed=1)
    first = AutoModelForImageTextToText.from_pretrained(tiny_solver_dir).state_dict()
    same = AutoModelForImageTextToText.from_pretrained(again).state_dict()
    different = AutoModelForImageTextToText.from_pretrained(other).state_dict()
    key = "model.language_model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(first[key], same[key])
    assert not torch.equal(first[key], different[key])
    assert (again / "tokenizer.json").read_text() == (
        tiny_solver_dir / "tokenizer.json"
    ).read_text()


def test_config_path_loads_the_solver(tiny_solver_dir: Path) -> None:
    config = SolverConfig(model=str(tiny_solver_dir), device="cpu", frame_size=64)
    solver = load_solver(config)
    assert isinstance(solver, Solver)
    assert solver.model.dtype == torch.float32 and solver.model.device.type == "cpu"


def test_loading_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"solver\.model is empty"):
        load_model(SolverConfig(device="cpu"))
    with pytest.raises(OSError, match="could not load solver model"):
        load_model(SolverConfig(model=str(tmp_path / "missing"), device="cpu"))
    with pytest.raises(ValueError, match="padding_side"):
        SolverConfig(padding_side="middle")  # type: ignore[arg-type]
