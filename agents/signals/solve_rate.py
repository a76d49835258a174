"""How often k sampled answers are right, scored with the VSI-Bench metric.

p = mean_j s_j and learnability = (1/k) sum_j (s_j - p)^2 over k replies sampled at
`temperature` (s_j: exact match on the letter, or MRA on the number, of the reply's
first word, as VSI-Bench parses it). This is the R-Zero / Absolute Zero solve rate.
Cost: k generations per sample (each up to max_new_tokens), the dearest signal.
temperature=0 takes the greedy reply (then every s_j is the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from transformers import GenerationConfig

from agents.answer_scoring import score_answer
from agents.signals.base import SignalFromConfig, SignalValue, require_local_solver
from agents.solver.encoding import prompt_text
from agents.solver.items import SolverItem
from agents.solver.scoring import encode_batch


@dataclass
class SolveRate(SignalFromConfig):
    name: ClassVar[str] = "solve_rate"
    needs_local_solver: ClassVar[bool] = True
    samples: int = field(default=8, metadata={"help": "Sampled answers per question (k)."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (0: greedy)."})
    seed: int = field(default=0, metadata={"help": "Seed of the sampler, for repeatable runs."})

    def replies(self, solver: Any, items: Sequence[SolverItem]) -> list[list[str]]:
        """k decoded replies per item, in input order."""
        require_local_solver(solver, self.name)
        tokenizer = solver.processor.tokenizer
        greedy = self.temperature <= 0
        k = 1 if greedy else self.samples
        generation = GenerationConfig(
            max_new_tokens=solver.config.max_new_tokens,
            do_sample=not greedy,
            temperature=None if greedy else self.temperature,
            top_k=None if greedy else 0,
            top_p=None,
            num_return_sequences=k,
            eos_token_id=solver.model.generation_config.eos_token_id or tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        out: list[list[str]] = []
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(self.seed)
        try:
            for start in range(0, len(items), solver.config.batch_size):
                batch = list(items[start : start + solver.config.batch_size])
                images = [solver.frames.for_item(item, False) for item in batch]
                texts = [
                    prompt_text(solver.processor, item, len(imgs))
                    for item, imgs in zip(batch, images, strict=True)
                ]
                inputs = encode_batch(solver.processor, texts, images, "left", solver.model.device)
                with torch.no_grad():
                    output = solver.model.generate(**inputs, generation_config=generation)
                decoded = tokenizer.batch_decode(
                    output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
                )
                for row in range(len(batch)):
                    replies = decoded[row * k : (row + 1) * k]
                    out.append(replies * (self.samples if greedy else 1))
        finally:
            torch.random.set_rng_state(generator_state)
        return out

    def score(self, solver: Any, items: Sequence[SolverItem]) -> list[SignalValue]:
        if not items:
            return []
        values = []
        for item, replies in zip(items, self.replies(solver, items), strict=True):
            scores = [score_answer(r, str(item.ground_truth), item.answer_kind) for r in replies]
            p = sum(scores) / len(scores)
            variance = sum((s - p) ** 2 for s in scores) / len(scores)
            values.append(
                SignalValue(
                    sample_id=item.sample_id,
                    p=min(1.0, max(0.0, p)),
                    learnability=min(1.0, variance),
                    detail={"replies": replies, "scores": scores},
                )
            )
        return values
