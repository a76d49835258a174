"""Teacher-forced log-probabilities of reply tokens, batched, with explicit positions.

Only the hidden states that predict reply tokens go through the output head, so a
3,000-token sample never materialises a 3,000 x vocabulary logits matrix. Position ids
(Qwen's 3D multimodal RoPE) are computed here from the unpadded tokens, so padding side
and batch composition cannot change the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image
from transformers import PreTrainedModel, ProcessorMixin

from agents.solver.encoding import ScoringText
from agents.solver.items import ConfidenceResult, SolverItem


@dataclass
class TokenScores:
    """Log-probabilities for one item: each scored reply token, and the option letters."""

    token_log_probs: list[float]
    letter_log_probs: list[float] | None  # restricted to the letters: logsumexp == 0


def base_model(model: PreTrainedModel) -> torch.nn.Module:
    """The multimodal backbone (without the output head) of an image-text-to-text model."""
    inner = getattr(model, "model", None)
    if inner is None or model.get_output_embeddings() is None:
        raise TypeError(
            f"{type(model).__name__} has no .model backbone plus output head; the solver needs an "
            "AutoModelForImageTextToText model such as Qwen3-VL or Qwen2.5-VL"
        )
    return inner


def position_ids(
    model: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    mm_token_type_ids: torch.Tensor | None,
    image_grid_thw: torch.Tensor | None,
) -> torch.Tensor:
    """Positions of every token: (3, batch, length) multimodal RoPE for Qwen-VL, else (batch, length)."""
    inner = base_model(model)
    if hasattr(inner, "get_rope_index"):
        if mm_token_type_ids is None:
            mm_token_type_ids = torch.zeros_like(input_ids)
        positions, _ = inner.get_rope_index(
            input_ids=input_ids,
            mm_token_type_ids=mm_token_type_ids,
            image_grid_thw=image_grid_thw,
            attention_mask=attention_mask,
        )
        return positions
    positions = attention_mask.long().cumsum(-1) - 1
    return positions.clamp(min=0)


def scores_from_hidden(
    model: PreTrainedModel, hidden: torch.Tensor, texts: list[ScoringText]
) -> list[TokenScores]:
    """Scores from the hidden states that predict each scored reply token, for many items.

    `hidden` stacks, item after item, one row per scored token (the row predicting token
    l is the state at the position before it); each item's first row is its answer
    position, where the option-letter distribution is read. One output-head call and one
    device-to-host copy serve the whole batch.
    """
    logits = model.get_output_embeddings()(hidden).float()
    log_probs = torch.log_softmax(logits, dim=-1)
    targets = torch.tensor([t for text in texts for t in text.scored_ids], device=hidden.device)
    token_log_probs = log_probs.gather(1, targets[:, None])[:, 0].tolist()
    firsts = [0]
    for text in texts[:-1]:
        firsts.append(firsts[-1] + text.scored_count)
    letter_rows = [
        (first, text) for first, text in zip(firsts, texts, strict=True) if text.letter_ids
    ]
    letter_log_probs: dict[int, list[float]] = {}
    if letter_rows:
        gathered = [log_probs[first, list(text.letter_ids)] for first, text in letter_rows]
        flat = torch.cat([torch.log_softmax(row.double(), dim=-1) for row in gathered]).tolist()
        offset = 0
        for first, text in letter_rows:
            letter_log_probs[first] = flat[offset : offset + len(text.letter_ids)]
            offset += len(text.letter_ids)
    return [
        TokenScores(token_log_probs[first : first + text.scored_count], letter_log_probs.get(first))
        for first, text in zip(firsts, texts, strict=True)
    ]


def encode_batch(
    processor: ProcessorMixin,
    texts: list[str],
    images: list[list[Image.Image]],
    padding_side: str,
    device: torch.device | None = None,
) -> dict[str, Any]:
    """Processor outputs for a batch (no images in blind mode), on `device` if given."""
    with_images = any(images)
    if with_images and not all(images):
        raise ValueError("a batch mixes items with and without frames; score them separately")
    encoded = processor(
        text=texts,
        images=images if with_images else None,
        padding=True,
        padding_side=padding_side,
        return_tensors="pt",
    )
    if device is None:
        return dict(encoded)
    return {key: value.to(device) for key, value in encoded.items()}


def reply_start(input_ids: torch.Tensor, attention_mask: torch.Tensor, text: ScoringText) -> int:
    """Index of the first reply token in one (possibly padded) row, checked against the ids."""
    real = attention_mask.nonzero()[:, 0]
    end = int(real[-1]) + 1
    start = end - len(text.reply_ids)
    found = tuple(input_ids[start:end].tolist())
    if found != text.reply_ids:
        raise ValueError(
            "the reply tokens differ between the full conversation and the reply alone "
            f"({found} vs {text.reply_ids}); the tokenizer merges across the turn boundary"
        )
    return start


@torch.no_grad()
def score_batch(
    model: PreTrainedModel,
    processor: ProcessorMixin,
    texts: list[ScoringText],
    images: list[list[Image.Image]],
    padding_side: str = "left",
) -> list[TokenScores]:
    """One forward pass over whole sequences (no sharing); scores in input order."""
    device = model.device
    encoded = encode_batch(processor, [t.full_text for t in texts], images, padding_side)
    positions = position_ids(  # on the CPU: cheap per-token bookkeeping, no device syncs
        model,
        encoded["input_ids"],
        encoded["attention_mask"],
        encoded.get("mm_token_type_ids"),
        encoded.get("image_grid_thw"),
    )
    inputs = {key: value.to(device) for key, value in encoded.items()}
    inputs["position_ids"] = positions.to(device)
    hidden = base_model(model)(**inputs, use_cache=False).last_hidden_state
    batch_rows, positions = [], []
    for row, text in enumerate(texts):
        start = reply_start(encoded["input_ids"][row], encoded["attention_mask"][row], text)
        batch_rows += [row] * text.scored_count
        positions += range(start - 1, start - 1 + text.scored_count)
    wanted = hidden[torch.tensor(batch_rows, device=device), torch.tensor(positions, device=device)]
    return scores_from_hidden(model, wanted, texts)


def confidence_result(
    item: SolverItem, text: ScoringText, score: TokenScores, blind: bool
) -> ConfidenceResult:
    """The record for one item: geometric-mean probability and the letter distribution."""
    mean_log_prob = sum(score.token_log_probs) / len(score.token_log_probs)
    letter_probs = None
    if score.letter_log_probs is not None:
        letter_probs = {
            letter: math.exp(lp)
            for letter, lp in zip(text.letters, score.letter_log_probs, strict=True)
        }
    return ConfidenceResult(
        sample_id=item.sample_id,
        confidence=min(1.0, math.exp(mean_log_prob)),
        mean_log_prob=mean_log_prob,
        token_log_probs=score.token_log_probs,
        letter_probs=letter_probs,
        blind=blind,
    )
