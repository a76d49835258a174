"""Optional vLLM backend: the same answers and confidences, served by vLLM on a GPU.

Install with the ``vllm`` extra. Answers use ``LLM.generate`` with greedy sampling.
Confidence uses prompt log-probabilities: the prompt is the whole conversation with the
ground truth as the reply, ``SamplingParams(max_tokens=1, prompt_logprobs=1)`` returns
log P of every prompt token given the ones before it, and the reply's tokens are the
prompt's last ones. For multiple choice, each other option letter is scored the same way
(prompt + letter), and the letter distribution is those probabilities renormalised.
vLLM recomputes prompts that ask for prompt log-probabilities (its prefix cache does not
apply), so a multiple-choice item with k options costs k prefills here; the transformers
backend shares the frame prefix instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PIL import Image
from transformers import AutoProcessor

from agents.solver.config import SolverConfig
from agents.solver.encoding import ScoringText, prompt_text, scoring_text
from agents.solver.frame_cache import FrameCache
from agents.solver.items import AnswerResult, ConfidenceResult, SolverItem
from agents.solver.prompts import parse_reply
from agents.solver.scoring import TokenScores, confidence_result


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as error:
        raise ImportError(
            "solver.backend is 'vllm' but vLLM is not installed; install the extra with "
            "pip install 'ouroboros-spatial[vllm]' (needs a CUDA GPU), or use backend 'transformers'"
        ) from error
    return vllm


class VLLMSolver:
    """A vLLM engine behind the solver interface (answer, confidence)."""

    def __init__(
        self, config: SolverConfig, llm: Any | None = None, vllm_module: Any | None = None
    ) -> None:
        self.vllm = vllm_module or import_vllm()
        self.config = config
        self.processor = AutoProcessor.from_pretrained(config.model)
        self.frames = FrameCache(config.frame_size)
        self.llm = llm or self.vllm.LLM(
            model=config.model,
            dtype="bfloat16" if config.dtype == "auto" else config.dtype,
            limit_mm_per_prompt={"image": max(config.num_frames, 1)},
            max_model_len=config.vllm_max_model_len,
            gpu_memory_utilization=config.vllm_gpu_memory_utilization,
        )

    def _request(self, text: str, images: list[Image.Image]) -> dict[str, Any]:
        request: dict[str, Any] = {"prompt": text}
        if len(images) > max(self.config.num_frames, 1):
            raise ValueError(
                f"an item shows {len(images)} frames but the vLLM engine accepts at most "
                f"solver.num_frames = {self.config.num_frames} images per prompt; raise num_frames"
            )
        if images:
            request["multi_modal_data"] = {"image": images}
        return request

    def answer(self, items: Sequence[SolverItem], blind: bool = False) -> list[AnswerResult]:
        requests = []
        for item in items:
            images = self.frames.for_item(item, blind)
            requests.append(self._request(prompt_text(self.processor, item, len(images)), images))
        params = self.vllm.SamplingParams(temperature=0.0, max_tokens=self.config.max_new_tokens)
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        return [
            AnswerResult(
                sample_id=item.sample_id,
                reply=output.outputs[0].text,
                answer=parse_reply(output.outputs[0].text),
            )
            for item, output in zip(items, outputs, strict=True)
        ]

    def confidence(
        self, items: Sequence[SolverItem], blind: bool = False
    ) -> list[ConfidenceResult]:
        texts: list[ScoringText] = []
        requests: list[dict[str, Any]] = []
        gold_index: list[int] = []  # per item: its ground-truth request
        letter_index: list[list[int]] = []  # per item, per option letter: the request to read
        for item in items:
            images = self.frames.for_item(item, blind)
            text = scoring_text(self.processor, item, len(images), self.config.include_end_of_turn)
            texts.append(text)
            gold_index.append(len(requests))
            requests.append(self._request(text.full_text, images))
            indices = []
            for letter in text.letters:
                if letter == (item.ground_truth or "").strip():
                    indices.append(gold_index[-1])
                else:
                    indices.append(len(requests))
                    requests.append(self._request(text.prompt_text + letter, images))
            letter_index.append(indices)
        params = self.vllm.SamplingParams(max_tokens=1, prompt_logprobs=1, temperature=0.0)
        outputs = self.llm.generate(requests, params, use_tqdm=False)

        results = []
        for i, (item, text) in enumerate(zip(items, texts, strict=True)):
            reply_log_probs = tail_log_probs(outputs[gold_index[i]], text.reply_ids)
            letter_log_probs = None
            if text.letters:
                raw = [
                    reply_log_probs[0]
                    if index == gold_index[i]
                    else tail_log_probs(outputs[index], (letter_id,))[0]
                    for index, letter_id in zip(letter_index[i], text.letter_ids, strict=True)
                ]
                letter_log_probs = renormalise(raw)
            score = TokenScores(reply_log_probs[: text.scored_count], letter_log_probs)
            results.append(confidence_result(item, text, score, blind))
        return results


def tail_log_probs(output: Any, expected_ids: tuple[int, ...]) -> list[float]:
    """log P of the last prompt tokens (which must be `expected_ids`) from prompt_logprobs."""
    prompt_ids = list(output.prompt_token_ids)
    tail = prompt_ids[-len(expected_ids) :]
    if tuple(tail) != tuple(expected_ids):
        raise ValueError(
            f"vLLM tokenised the reply as {tail}, the solver expected {list(expected_ids)}; "
            "check that vLLM and transformers load the same tokenizer"
        )
    entries = output.prompt_logprobs[-len(expected_ids) :]
    return [entry[token].logprob for entry, token in zip(entries, tail, strict=True)]


def renormalise(log_probs: list[float]) -> list[float]:
    """Log-probabilities restricted to a subset, renormalised so they sum to one."""
    peak = max(log_probs)
    total = peak + math.log(sum(math.exp(value - peak) for value in log_probs))
    return [value - total for value in log_probs]
