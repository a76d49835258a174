"""Shared-prefix packing: several questions about one frame set in one training sequence.

With 16 frames, ~3,100 of a sample's ~3,300 tokens are the frames. Packing lays out
the frame prefix once, then each question + answer as its own segment:

    [chat header + frames][q1 a1][q2 a2]...[qn an]

and an attention mask lets each segment see the prefix and itself only (causally), with
the position ids every segment would have alone. Each answer is then conditioned on
exactly what it would see unpacked (the same loss, up to float rounding), while the
vision tower and the prefix run once for n answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image
from transformers import PreTrainedModel, ProcessorMixin

from agents.solver.encoding import ScoringText, encode_ids
from agents.solver.prefix import full_sequence_positions, split_suffixes

IGNORE_INDEX = -100


@dataclass
class PackedSequence:
    """One packed sequence (no batch dimension) and where each question sits in it."""

    input_ids: torch.Tensor  # (length,)
    position_ids: torch.Tensor  # (3, length) for Qwen-VL's RoPE, else (length,)
    mask: torch.Tensor  # (length, length) bool, True = may attend
    labels: torch.Tensor  # (length,), IGNORE_INDEX outside the answers
    answer_segments: torch.Tensor  # (length,) 0, or k + 1 on question k's confidence tokens
    vision: dict[str, torch.Tensor] = field(default_factory=dict)  # pixel_values, image_grid_thw
    segments: list[tuple[int, int]] = field(default_factory=list)  # (start, end) per question


def shared_prefix_mask(prefix_length: int, segment_lengths: list[int]) -> torch.Tensor:
    """(L, L) bool: causal in the prefix; each segment sees the prefix and its own past."""
    length = prefix_length + sum(segment_lengths)
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    same_block = torch.zeros(length, length, dtype=torch.bool)
    same_block[:, :prefix_length] = True
    start = prefix_length
    for size in segment_lengths:
        same_block[start : start + size, start : start + size] = True
        start += size
    return causal & same_block


def pack_questions(
    model: PreTrainedModel,
    processor: ProcessorMixin,
    texts: list[ScoringText],
    answers: list[str],
    images: list[Image.Image],
    train_end_of_turn: bool = True,
) -> PackedSequence:
    """Pack questions that all show `images` behind one frame prefix (Qwen-VL models)."""
    prefix_text, suffixes = split_suffixes(model, processor, texts)
    prefix = processor(text=[prefix_text], images=[images], return_tensors="pt")
    prefix_ids = prefix["input_ids"][0]
    prefix_length = len(prefix_ids)
    positions = full_sequence_positions(model, prefix, max(suffixes, key=len))[..., 0, :]
    pieces_ids, pieces_positions = [prefix_ids], [positions[..., :prefix_length]]
    labels = [torch.full((prefix_length,), IGNORE_INDEX)]
    answer_segments = [torch.zeros(prefix_length, dtype=torch.long)]
    segments = []
    start = prefix_length
    for k, (suffix, text, answer) in enumerate(zip(suffixes, texts, answers, strict=True)):
        ids = torch.tensor(suffix, dtype=torch.long)
        reply_at = len(suffix) - len(text.reply_ids)
        if tuple(suffix[reply_at:]) != text.reply_ids:
            raise ValueError("the reply tokens differ inside the packed segment; cannot pack it")
        answer_length = len(encode_ids(processor.tokenizer, answer.strip()))
        trained = answer_length + (
            1 if train_end_of_turn and len(text.reply_ids) > answer_length else 0
        )
        segment_labels = torch.full_like(ids, IGNORE_INDEX)
        segment_labels[reply_at : reply_at + trained] = ids[reply_at : reply_at + trained]
        segment_answers = torch.zeros_like(ids)
        segment_answers[reply_at : reply_at + text.scored_count] = k + 1
        pieces_ids.append(ids)
        pieces_positions.append(positions[..., prefix_length : prefix_length + len(suffix)])
        labels.append(segment_labels)
        answer_segments.append(segment_answers)
        segments.append((start, start + len(suffix)))
        start += len(suffix)
    vision = {
        key: value for key, value in prefix.items() if key in ("pixel_values", "image_grid_thw")
    }
    return PackedSequence(
        input_ids=torch.cat(pieces_ids),
        position_ids=torch.cat(pieces_positions, dim=-1),
        mask=shared_prefix_mask(prefix_length, [len(s) for s in suffixes]),
        labels=torch.cat(labels),
        answer_segments=torch.cat(answer_segments),
        vision=vision,
        segments=segments,
    )


def attention_mask_for(
    mask: torch.Tensor, attn_implementation: str, dtype: torch.dtype
) -> torch.Tensor:
    """The 4D mask in the form the attention kernel takes: bool for SDPA, additive for eager."""
    if attn_implementation == "sdpa":
        return mask
    if attn_implementation == "eager":
        bias = torch.zeros(mask.shape, dtype=dtype)
        return bias.masked_fill(~mask, torch.finfo(dtype).min)
    raise ValueError(
        f"shared-prefix packing needs an attention kernel that takes an arbitrary mask; "
        f"{attn_implementation!r} does not. Use attn_implementation='sdpa' (or 'eager')"
    )


def collate_packed(
    sequences: list[PackedSequence], pad_token_id: int, attn_implementation: str, dtype: torch.dtype
) -> dict[str, Any]:
    """Right-pad packed sequences into a batch with a (batch, 1, L, L) attention mask.

    Padding positions attend only to themselves, so no softmax row is empty (NaN-free).
    """
    longest = max(len(s.input_ids) for s in sequences)
    batch = len(sequences)
    input_ids = torch.full((batch, longest), pad_token_id, dtype=torch.long)
    labels = torch.full((batch, longest), IGNORE_INDEX, dtype=torch.long)
    answer_segments = torch.zeros((batch, longest), dtype=torch.long)
    mask = torch.eye(longest, dtype=torch.bool).repeat(batch, 1, 1)
    rope_dims = sequences[0].position_ids.shape[:-1]
    positions = torch.zeros((*rope_dims, batch, longest), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        length = len(sequence.input_ids)
        input_ids[row, :length] = sequence.input_ids
        labels[row, :length] = sequence.labels
        answer_segments[row, :length] = sequence.answer_segments
        mask[row, :length, :length] = sequence.mask
        positions[..., row, :length] = sequence.position_ids
    vision = {key: torch.cat([s.vision[key] for s in sequences]) for key in sequences[0].vision}
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask_for(mask[:, None], attn_implementation, dtype),
        "position_ids": positions,
        "labels": labels,
        "answer_segments": answer_segments,
        "real_tokens": torch.tensor([len(s.input_ids) for s in sequences]),
        **vision,
    }
