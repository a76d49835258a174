"""Each training sample's confidence, read from the training forward pass itself.

TRL's fused LM head returns the log-probability of every labelled token
(`outputs.log_probs`, shifted like the labels). Averaging it over a sample's answer tokens
gives the solver's confidence, `p = exp(mean_l log P(a_l | frames, q, a_<l))`, at the
weights of that forward pass (before its optimizer step), with no extra pass.

The collators mark answer tokens with `answer_segments`: 0 elsewhere, k + 1 on the
confidence tokens of the row's k-th sample (one sample per row, or several when packed).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object

#: Written into each SFT checkpoint: sample id -> confidence recorded so far.
CONFIDENCE_FILE = "confidences.json"


def segment_confidences(
    log_probs: torch.Tensor, answer_segments: torch.Tensor
) -> list[list[float]]:
    """exp(mean log-probability) over each sample's answer tokens, per row, in segment order.

    `log_probs[b, t]` is log P(token t + 1) (shifted, as TRL's fused head returns it);
    `answer_segments[b, t]` labels token t of the unshifted sequence.
    """
    segments = answer_segments[:, 1:].to(log_probs.device)
    if log_probs.shape != segments.shape:
        raise ValueError(
            f"log_probs {tuple(log_probs.shape)} do not line up with the answer segments "
            f"{tuple(answer_segments.shape)} shifted by one"
        )
    values = log_probs.detach().double()
    result = []
    for row in range(segments.shape[0]):
        count = int(segments[row].max())
        confidences = []
        for k in range(1, count + 1):
            chosen = segments[row] == k
            if not bool(chosen.any()):
                raise ValueError(f"row {row}: sample {k} has no answer tokens")
            confidences.append(min(1.0, math.exp(float(values[row][chosen].mean()))))
        result.append(confidences)
    return result


class ConfidenceRecorder:
    """Keeps the first confidence seen for each sample id (before training on it updates it)."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}

    def record(self, sample_ids: Sequence[Sequence[str]], confidences: list[list[float]]) -> None:
        for ids, values in zip(sample_ids, confidences, strict=True):
            for sample_id, confidence in zip(ids, values, strict=True):
                self.first.setdefault(sample_id, confidence)

    @contextmanager
    def capture(
        self,
        model: torch.nn.Module,
        answer_segments: torch.Tensor | None,
        sample_ids: Sequence[Sequence[str]] | None,
    ) -> Iterator[None]:
        """Record from the fused outputs of every forward of `model` inside the block."""
        if answer_segments is None or sample_ids is None:
            yield
            return

        def hook(module: torch.nn.Module, args: Any, output: Any) -> None:
            log_probs = getattr(output, "log_probs", None)
            if log_probs is not None and log_probs.dim() == 2:
                self.record(sample_ids, segment_confidences(log_probs, answer_segments))

        handle = model.register_forward_hook(hook)
        try:
            yield
        finally:
            handle.remove()


def gather_confidences(accelerator: Accelerator, local: dict[str, float]) -> dict[str, float]:
    """Every process's recorded confidences in one dict (the first record of a sample wins)."""
    parts = gather_object([local]) if accelerator.num_processes > 1 else [local]
    merged: dict[str, float] = {}
    for part in parts:
        for sample_id, confidence in part.items():
            merged.setdefault(sample_id, confidence)
    return merged
