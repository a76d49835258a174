"""The vLLM backend reads prompt log-probabilities correctly and agrees with transformers.

On CPU, a stand-in engine implements vLLM's documented output format from the tiny
model (``prompt_token_ids`` and ``prompt_logprobs``: one dict per prompt token, keyed by
token id, ``None`` for the first); the GPU test runs real vLLM (``vllm`` extra).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from PIL import Image
from transformers import PreTrainedModel, ProcessorMixin

from agents.solver.backends import load_solver
from agents.solver.config import SolverConfig
from agents.solver.items import SolverItem
from agents.solver.solver import Solver
from agents.solver.vllm_backend import VLLMSolver, import_vllm, renormalise


@dataclass
class StandInSamplingParams:
    temperature: float = 1.0
    max_tokens: int = 16
    prompt_logprobs: int | None = None


class StandInEngine:
    """Answers `generate` the way vLLM's LLM does, computed with a transformers model."""

    def __init__(self, model: PreTrainedModel, processor: ProcessorMixin) -> None:
        self.model, self.processor = model, processor
        self.requests: list[dict[str, Any]] = []

    @torch.no_grad()
    def generate(
        self, requests: list[dict[str, Any]], params: Any, use_tqdm: bool = False
    ) -> list[Any]:
        self.requests.extend(requests)
        outputs = []
        for request in requests:
            images = request.get("multi_modal_data", {}).get("image")
            inputs = self.processor(
                text=[request["prompt"]], images=[images] if images else None, return_tensors="pt"
            )
            ids = inputs["input_ids"][0].tolist()
            prompt_logprobs = None
            if params.prompt_logprobs is not None:
                log_probs = torch.log_softmax(self.model(**inputs).logits[0].double(), dim=-1)
                prompt_logprobs = [None] + [
                    {token: SimpleNamespace(logprob=float(log_probs[i, token]))}
                    for i, token in enumerate(ids[1:])
                ]
            generated = self.model.generate(
                **inputs, max_new_tokens=params.max_tokens, do_sample=False
            )
            text = self.processor.tokenizer.decode(
                generated[0, len(ids) :], skip_special_tokens=True
            )
            outputs.append(
                SimpleNamespace(
                    prompt_token_ids=ids,
                    prompt_logprobs=prompt_logprobs,
                    outputs=[SimpleNamespace(text=text)],
                )
            )
        return outputs


def items(frames_of: Callable[[int, int], list[Image.Image]]) -> list[SolverItem]:
    frames = frames_of(7, 2)
    return [
        SolverItem.from_images(
            "Which object is closest to the bed?",
            frames,
            "multiple_choice",
            options=["A. chair", "B. table", "C. lamp"],
            ground_truth="C",
        ),
        SolverItem.from_images(
            "How many chair(s) are in this room?", frames, "numeric", ground_truth="14"
        ),
    ]


def test_stand_in_engine_scores_like_the_transformers_solver(
    tiny_solver_dir: Path,
    tiny_model: tuple[PreTrainedModel, ProcessorMixin],
    frames_of: Callable[[int, int], list[Image.Image]],
) -> None:
    model, processor = tiny_model
    config = SolverConfig(model=str(tiny_solver_dir), device="cpu", frame_size=64, num_frames=4)
    engine = StandInEngine(model, processor)
    backend = VLLMSolver(
        config, llm=engine, vllm_module=SimpleNamespace(SamplingParams=StandInSamplingParams)
    )
    expected = Solver(config, model, processor)
    for blind in (False, True):
        got = backend.confidence(items(frames_of), blind=blind)
        want = expected.confidence(items(frames_of), blind=blind)
        for a, b in zip(got, want, strict=True):
            assert a.token_log_probs == pytest.approx(b.token_log_probs, abs=1e-5)
            assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
            assert (a.letter_probs is None) == (b.letter_probs is None)
            if a.letter_probs is not None:
                assert a.letter_probs == pytest.approx(b.letter_probs, abs=1e-5)
    # the multiple-choice item needs one extra prompt per non-gold letter (A and B here)
    assert len(engine.requests) == 2 * (2 + 2)
    answers = backend.answer(items(frames_of))
    assert [a.reply for a in answers] == [a.reply for a in expected.answer(items(frames_of))]
    one_frame = VLLMSolver(replace(config, num_frames=1), llm=engine, vllm_module=SimpleNamespace())
    with pytest.raises(ValueError, match=r"at most solver\.num_frames"):
        one_frame.answer(items(frames_of))


def test_renormalise_restricts_to_the_subset() -> None:
    restricted = renormalise([-1.0, -2.0, -4.0])
    assert sum(math.exp(v) for v in restricted) == pytest.approx(1.0, abs=1e-12)
    assert restricted[0] - restricted[1] == pytest.approx(1.0)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_missing_vllm_says_how_to_install() -> None:
    with pytest.raises(ImportError, match=r"ouroboros-spatial\[vllm\]"):
        import_vllm()


@pytest.mark.gpu
def test_vllm_engine_matches_transformers_on_gpu(
    tiny_solver_dir: Path, frames_of: Callable[[int, int], list[Image.Image]]
) -> None:
    pytest.importorskip("vllm")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    config = SolverConfig(
        model=str(tiny_solver_dir),
        device="cuda",
        dtype="float32",
        frame_size=64,
        num_frames=4,
        vllm_max_model_len=2048,
        vllm_gpu_memory_utilization=0.3,
    )
    reference = Solver(config).confidence(items(frames_of))
    backend = load_solver(replace(config, backend="vllm"))
    got = backend.confidence(items(frames_of))
    for a, b in zip(got, reference, strict=True):
        assert a.confidence == pytest.approx(b.confidence, abs=2e-3)
        if b.letter_probs is not None:
            assert a.letter_probs == pytest.approx(b.letter_probs, abs=2e-3)
    assert len(backend.answer(items(frames_of))) == 2
