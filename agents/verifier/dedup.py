"""Check 6, de-duplication within a round: the first of each question is kept.

Exact duplicates: same scene, task, frames, normalised question, same option texts (in
any order) and the same answer. Near duplicates: within one scene, task, frame set (the
same words about other frames ask something else) and level, with the same answer and the
same content words (the scene categories and numbers the question names, in order, and
the options' in any order), the token-set Jaccard similarity of question plus options is
at least `near_threshold`: a word or two changed or added, options in another order. The
content words keep "How many chairs..." apart from "How many beds...", and "standing by
the bed facing the tv" apart from "standing by the tv facing the bed", however alike the
rest reads. Samples are compared only with those still pending, so a rejected sample
never knocks out a good one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.records import Sample
from agents.verifier.base import Check, CheckContext, Finding
from agents.verifier.reasons import RejectReason
from agents.verifier.text import answer_text, content_words, normalise, option_texts, tokens


@dataclass
class DedupConfig:
    """When two questions count as the same."""

    near_threshold: float = field(
        default=0.8,
        metadata={
            "help": "Token-set Jaccard of question + options at or above this: near duplicate."
        },
    )
    near_within_level: bool = field(
        default=True,
        metadata={
            "help": "Only compare questions of the same level (an easier version of a question, "
            "with fewer distractors, is a curriculum step, not a copy)."
        },
    )
    near_needs_same_answer: bool = field(
        default=True,
        metadata={"help": "Only call questions near duplicates when their answers match too."},
    )


class DedupCheck(Check):
    """Rejects repeats of a question already kept in this round."""

    name = "dedup"
    config_class = DedupConfig
    config: DedupConfig

    def run(self, samples: Sequence[Sample], ctx: CheckContext) -> list[Finding | None]:
        findings: list[Finding | None] = [None] * len(samples)
        first_of: dict[str, int] = {}
        kept_by_group: dict[str, list[tuple[int, set[str], str]]] = {}
        for i, sample in enumerate(samples):
            key = exact_key(sample)
            if key in first_of:
                findings[i] = Finding.reject(
                    RejectReason.DUPLICATE, f"same question as {samples[first_of[key]].sample_id}"
                )
                continue
            first_of[key] = i
            proposal = sample.proposal
            view = ctx.view(proposal.scene_id)
            categories = view.categories() if view is not None else []
            level = proposal.level if self.config.near_within_level else None
            where = json.dumps(
                [
                    proposal.scene_id,
                    proposal.question_type,
                    proposal.frame_indices,
                    level,
                    content_words(proposal.question, categories),
                    sorted(" ".join(content_words(t, categories)) for t in option_texts(proposal)),
                ]
            )
            group = kept_by_group.setdefault(where, [])
            words = tokens(" ".join([proposal.question, *option_texts(proposal)]))
            answer = normalise(answer_text(sample) or "")
            match = self._near(group, words, answer)
            if match is not None:
                j, similarity = match
                findings[i] = Finding.reject(
                    RejectReason.NEAR_DUPLICATE,
                    f"{similarity:.2f} similar to {samples[j].sample_id} (threshold "
                    f"{self.config.near_threshold})",
                )
                continue
            group.append((i, words, answer))
        return findings

    def _near(
        self, group: list[tuple[int, set[str], str]], words: set[str], answer: str
    ) -> tuple[int, float] | None:
        for j, other_words, other_answer in group:
            if self.config.near_needs_same_answer and answer != other_answer:
                continue
            similarity = jaccard(words, other_words)
            if similarity >= self.config.near_threshold:
                return j, similarity
        return None


def exact_key(sample: Sample) -> str:
    """Scene, task, frames, normalised question, option texts (any order) and answer."""
    proposal = sample.proposal
    return json.dumps(
        [
            proposal.scene_id,
            proposal.question_type,
            proposal.frame_indices,
            normalise(proposal.question),
            sorted(normalise(t) for t in option_texts(proposal)),
            normalise(answer_text(sample) or ""),
        ]
    )


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
