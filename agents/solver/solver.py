"""The solver: a Hugging Face VLM that answers spatial questions and scores its confidence.

``answer`` runs batched greedy generation and parses the reply as VSI-Bench does.
``confidence`` scores the ground truth under teacher forcing: per item
``p = exp(mean_l log P(a_l | frames, question, a_<l))`` over the answer's tokens, and
for multiple choice the distribution over the option letters at the answer position.
Questions about the same frames share one cached prefix (see ``prefix.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    GenerationConfig,
    PreTrainedModel,
    ProcessorMixin,
)

from agents.solver.config import SolverConfig
from agents.solver.encoding import ScoringText, prompt_text, scoring_text
from agents.solver.frame_cache import FrameCache
from agents.solver.items import AnswerResult, ConfidenceResult, SolverItem
from agents.solver.prefix import score_shared_prefix, vision_end_marker
from agents.solver.prompts import parse_reply
from agents.solver.scoring import TokenScores, confidence_result, encode_batch, score_batch
from agents.solver.video_input import clip_timing, encode_video_batch

DTYPES: dict[str, torch.dtype] = {
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
    "float32": torch.float32,
}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"solver.device is {name!r} but no CUDA GPU is visible; use 'cpu'")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if name not in DTYPES:
        raise ValueError(f"solver.dtype {name!r} is not one of 'auto', {', '.join(DTYPES)}")
    return DTYPES[name]


def load_model(config: SolverConfig) -> tuple[PreTrainedModel, ProcessorMixin]:
    """Model and processor from a local folder or hub id, on the configured device and dtype."""
    if not config.model:
        raise ValueError(
            "solver.model is empty: set it to a local checkpoint folder or a hub id "
            "(e.g. Qwen/Qwen3-VL-4B-Instruct), or build a tiny one with "
            "agents.solver.tiny.build_tiny_solver(path)"
        )
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    try:
        processor = AutoProcessor.from_pretrained(config.model)
        model = AutoModelForImageTextToText.from_pretrained(
            config.model, dtype=dtype, attn_implementation=config.attn_implementation
        )
    except OSError as error:
        raise OSError(
            f"could not load solver model {config.model!r}: {error}. Check the path, or that the "
            "hub id is reachable (offline machines need a local folder)"
        ) from error
    return model.to(device).eval(), processor


class Solver:
    """Answers and confidences from one VLM; items are scored in batches, results in input order."""

    def __init__(
        self,
        config: SolverConfig,
        model: PreTrainedModel | None = None,
        processor: ProcessorMixin | None = None,
    ) -> None:
        if (model is None) != (processor is None):
            raise ValueError("pass both model and processor, or neither (then config.model loads)")
        if model is None:
            model, processor = load_model(config)
        self.config = config
        self.model = model
        self.processor = processor
        self.video = config.frame_input == "video"
        self.frames = FrameCache(None if self.video else config.frame_size)

    # -- answers ----------------------------------------------------------------------
    @torch.no_grad()
    def answer(self, items: Sequence[SolverItem], blind: bool = False) -> list[AnswerResult]:
        """Greedy replies (at most max_new_tokens) parsed like VSI-Bench, in input order."""
        tokenizer = self.processor.tokenizer
        generation = GenerationConfig(
            max_new_tokens=self.config.max_new_tokens,
            do_sample=False,
            eos_token_id=self.model.generation_config.eos_token_id or tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        results: list[AnswerResult] = []
        for start in range(0, len(items), self.config.batch_size):
            batch = list(items[start : start + self.config.batch_size])
            images = [self.frames.for_item(item, blind) for item in batch]
            video = self.video and not blind
            texts = [
                prompt_text(self.processor, item, len(imgs), video)
                for item, imgs in zip(batch, images, strict=True)
            ]
            if video:
                timings = [
                    clip_timing(imgs, item.clip) for item, imgs in zip(batch, images, strict=True)
                ]
                inputs = encode_video_batch(
                    self.processor, texts, images, timings, self.model.device
                )
            else:
                inputs = encode_batch(self.processor, texts, images, "left", self.model.device)
            output = self.model.generate(**inputs, generation_config=generation)
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            replies = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for item, reply in zip(batch, replies, strict=True):
                results.append(
                    AnswerResult(sample_id=item.sample_id, reply=reply, answer=parse_reply(reply))
                )
        return results

    # -- confidence -------------------------------------------------------------------
    def confidence(
        self, items: Sequence[SolverItem], blind: bool = False
    ) -> list[ConfidenceResult]:
        """Teacher-forced confidence in each item's ground truth (blind: without frames)."""
        texts, scores = self.token_scores(items, blind, self.config.include_end_of_turn)
        return [
            confidence_result(item, text, score, blind)
            for item, text, score in zip(items, texts, scores, strict=True)
        ]

    def token_scores(
        self, items: Sequence[SolverItem], blind: bool = False, include_end_of_turn: bool = False
    ) -> tuple[list[ScoringText], list[TokenScores]]:
        """Each item's scoring text and teacher-forced scores of its ground-truth reply.

        Frames are loaded group by group, so long lists do not hold every image at once.
        With `include_end_of_turn` the end-of-turn token is scored too, which makes the
        summed log-probability that of the whole answer string (the difficulty signals
        compare candidate answers of different lengths with it).
        """
        if self.video and not blind:
            raise ValueError(
                "confidence scores frames as fixed-size images; this solver shows them as a "
                "video (frame_input='video', for answer() in evaluation); use frame_input='images'"
            )
        for item in items:
            if not blind and item.num_frames == 0:
                self.frames.for_item(item, blind)  # raises the explanatory error
        texts = [
            scoring_text(self.processor, item, 0 if blind else item.num_frames, include_end_of_turn)
            for item in items
        ]
        scores: list[TokenScores | None] = [None] * len(items)
        for members in self._shared_groups(items, blind):
            group_scores = score_shared_prefix(
                self.model,
                self.processor,
                [texts[i] for i in members],
                self.frames.for_item(items[members[0]], blind),
                self.config.questions_per_forward,
            )
            for i, score in zip(members, group_scores, strict=True):
                scores[i] = score
        alone = [i for i in range(len(items)) if scores[i] is None]
        for start in range(0, len(alone), self.config.batch_size):
            chunk = alone[start : start + self.config.batch_size]
            chunk_scores = score_batch(
                self.model,
                self.processor,
                [texts[i] for i in chunk],
                [self.frames.for_item(items[i], blind) for i in chunk],
                self.config.padding_side,
            )
            for i, score in zip(chunk, chunk_scores, strict=True):
                scores[i] = score
        return texts, [score for score in scores if score is not None]

    def _shared_groups(self, items: Sequence[SolverItem], blind: bool) -> list[list[int]]:
        """Indices of items showing the same frames, for groups worth sharing (two or more)."""
        if blind or not self.config.share_prefix:
            return []
        if vision_end_marker(self.model, self.processor) is None:
            return []
        by_key: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            by_key.setdefault(item.frame_set_key(), []).append(i)
        return [members for members in by_key.values() if len(members) > 1]


class SolverBackend(Protocol):
    """What the loop needs from a solver, whichever engine runs it."""

    def answer(self, items: Sequence[SolverItem], blind: bool = False) -> list[AnswerResult]: ...

    def confidence(
        self, items: Sequence[SolverItem], blind: bool = False
    ) -> list[ConfidenceResult]: ...
