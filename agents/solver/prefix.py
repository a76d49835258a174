"""Shared-prefix scoring: encode the frames once, reuse their KV cache for every question.

Questions about the same scene and frame set have identical token sequences up to the
end of the last image (chat header plus all image tokens: about 3,100 of 3,300 tokens at
16 frames of 448x448). That prefix runs once, vision encoder included; the question and
answer suffixes then run as one batch against the prefix cache, expanded over the batch.

Exactness: the suffix is cut at a special token (the last ``<|vision_end|>``), where the
tokenizer always splits, so prefix ids + suffix ids equal the ids of the whole text.
Position ids come from the full sequences (Qwen's 3D RoPE via ``get_rope_index``) and are
sliced for the suffix, so every token sees the positions it would see unshared.
"""

from __future__ import annotations

import torch
from PIL import Image
from transformers import DynamicCache, PreTrainedModel, ProcessorMixin

from agents.solver.encoding import ScoringText, encode_ids
from agents.solver.scoring import TokenScores, base_model, position_ids, scores_from_hidden


def vision_end_marker(model: PreTrainedModel, processor: ProcessorMixin) -> str | None:
    """The special token that closes an image, or None when the model has none (no sharing)."""
    token_id = getattr(model.config, "vision_end_token_id", None)
    if token_id is None:
        return None
    return processor.tokenizer.convert_ids_to_tokens(int(token_id))


def split_at_last_image(text: str, marker: str) -> tuple[str, str]:
    cut = text.rfind(marker)
    if cut < 0:
        raise ValueError("the chat text has no image; blind items cannot share a frame prefix")
    cut += len(marker)
    return text[:cut], text[cut:]


def expanded_cache(prefix_cache: DynamicCache, batch: int, model: PreTrainedModel) -> DynamicCache:
    """A fresh cache holding the prefix keys/values once per batch row (the prefix stays intact)."""
    layers = [
        (layer.keys.expand(batch, -1, -1, -1), layer.values.expand(batch, -1, -1, -1))
        for layer in prefix_cache.layers
    ]
    return DynamicCache(layers, config=model.config)


@torch.no_grad()
def score_shared_prefix(
    model: PreTrainedModel,
    processor: ProcessorMixin,
    texts: list[ScoringText],
    images: list[Image.Image],
    questions_per_forward: int = 32,
) -> list[TokenScores]:
    """Scores for questions that all show `images`; equal to scoring each one whole."""
    prefix_text, suffix_ids = split_suffixes(model, processor, texts)
    device = model.device
    prefix_cpu = processor(text=[prefix_text], images=[images], return_tensors="pt")
    prefix_length = prefix_cpu["input_ids"].shape[1]
    positions = full_sequence_positions(model, prefix_cpu, max(suffix_ids, key=len)).to(device)
    cache = DynamicCache(config=model.config)
    base_model(model)(
        **{key: value.to(device) for key, value in prefix_cpu.items()},
        position_ids=positions[..., :prefix_length],
        past_key_values=cache,
        use_cache=True,
    )
    results: list[TokenScores] = []
    for first in range(0, len(texts), questions_per_forward):
        rows = range(first, min(first + questions_per_forward, len(texts)))
        results += score_suffixes(
            model,
            cache,
            positions[..., prefix_length:],
            [suffix_ids[i] for i in rows],
            [texts[i] for i in rows],
            pad_token_id=processor.tokenizer.pad_token_id,
        )
    return results


def split_suffixes(
    model: PreTrainedModel, processor: ProcessorMixin, texts: list[ScoringText]
) -> tuple[str, list[list[int]]]:
    """The shared prefix text and each question's suffix token ids (cut after the last image)."""
    marker = vision_end_marker(model, processor)
    if marker is None:
        raise ValueError(
            f"{type(model).__name__} has no vision_end_token_id; cannot share prefixes"
        )
    splits = [split_at_last_image(text.full_text, marker) for text in texts]
    prefix_text = splits[0][0]
    if any(prefix != prefix_text for prefix, _ in splits):
        raise ValueError("questions grouped for sharing render different prefixes")
    suffix_ids = [encode_ids(processor.tokenizer, suffix) for _, suffix in splits]
    whole = encode_ids(processor.tokenizer, texts[0].full_text)
    if whole[-len(suffix_ids[0]) :] != suffix_ids[0]:
        raise ValueError("the tokenizer merges across the image boundary; disable share_prefix")
    return prefix_text, suffix_ids


def score_suffixes(
    model: PreTrainedModel,
    prefix_cache: DynamicCache,
    suffix_positions: torch.Tensor,
    suffix_ids: list[list[int]],
    texts: list[ScoringText],
    pad_token_id: int,
) -> list[TokenScores]:
    """One forward over right-padded suffixes against the prefix cache expanded per row."""
    device = model.device
    batch, longest = len(suffix_ids), max(len(ids) for ids in suffix_ids)
    prefix_length = prefix_cache.get_seq_length()
    ids = torch.full((batch, longest), pad_token_id, dtype=torch.long)
    mask = torch.zeros((batch, prefix_length + longest), dtype=torch.long)
    mask[:, :prefix_length] = 1
    batch_rows: list[int] = []
    offsets: list[int] = []
    for row, (suffix, text) in enumerate(zip(suffix_ids, texts, strict=True)):
        ids[row, : len(suffix)] = torch.tensor(suffix)
        mask[row, prefix_length : prefix_length + len(suffix)] = 1
        start = len(suffix) - len(text.reply_ids)
        if tuple(suffix[start:]) != text.reply_ids:
            raise ValueError("the reply tokens differ inside the suffix; cannot score it")
        batch_rows += [row] * text.scored_count
        offsets += range(start - 1, start - 1 + text.scored_count)
    positions = suffix_positions[..., :longest]
    hidden = base_model(model)(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=positions.expand(*positions.shape[:-2], batch, longest),
        past_key_values=expanded_cache(prefix_cache, batch, model),
        use_cache=True,
    ).last_hidden_state
    wanted = hidden[torch.tensor(batch_rows, device=device), torch.tensor(offsets, device=device)]
    return scores_from_hidden(model, wanted, texts)


def full_sequence_positions(
    model: PreTrainedModel, prefix: dict[str, torch.Tensor], suffix: list[int]
) -> torch.Tensor:
    """Position ids of prefix + `suffix`: (3, 1, length) for Qwen-VL's RoPE, else (1, length).

    Every suffix token is text (the cut follows the last image), and a text token's
    position depends only on the tokens before it, so the row built with the longest
    suffix serves every question of the group (each reads the leading part it needs).
    """
    ids = torch.cat([prefix["input_ids"][0], torch.tensor(suffix, dtype=torch.long)])[None]
    types = torch.zeros_like(ids)
    if "mm_token_type_ids" in prefix:
        types[0, : prefix["input_ids"].shape[1]] = prefix["mm_token_type_ids"][0]
    mask = torch.ones_like(ids)
    return position_ids(model, ids, mask, types, prefix.get("image_grid_thw"))
