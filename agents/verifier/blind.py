"""Check 7, blind: reject questions the solver answers without looking (VSI-Bench-Debiased).

The solver answers each question without frames, in several paraphrases: the original,
the task's other templates (`agents.tasks.paraphrase`), then fixed rewordings. For
multiple choice, every second paraphrase lists the options in reverse order. A paraphrase
is answered "right" when the solver puts at least `choice_confidence` (and
`choice_over_chance` above chance) on the correct letter and it is the most likely one
(multiple choice), or replies with a number within `numeric_rel_error` of the answer
(numeric). Right in `min_correct` or more paraphrases, in both option orders: the
question is answerable from language priors alone and is rejected (a preference for one
letter is never right in both orders, so it does not pass for knowledge). All questions
go to the solver in one batched call per answer kind. Without a solver the check is
skipped with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.records import OPTION_LETTERS, Sample
from agents.tasks import TASKS
from agents.tasks.paraphrase import paraphrases
from agents.verifier.base import Check, CheckContext, Finding
from agents.verifier.reasons import RejectReason
from agents.verifier.text import option_texts, parse_number

if TYPE_CHECKING:
    from agents.solver.items import AnswerResult, ConfidenceResult, SolverItem

#: Deterministic rewordings used when the task has too few templates (or is unknown).
REWORDINGS: tuple[str, ...] = (
    "Question: {question}",
    "Please answer the following question. {question}",
    "{question} Answer as precisely as you can.",
)


@dataclass
class BlindConfig:
    """How often and how well a blind solver may answer before a question is rejected."""

    paraphrases: int = field(
        default=3, metadata={"help": "Paraphrases asked per question, the original included."}
    )
    min_correct: int = field(
        default=2, metadata={"help": "Right in this many paraphrases (or more): rejected."}
    )
    choice_confidence: float = field(
        default=0.6,
        metadata={"help": "Multiple choice: probability on the right letter needed to count."},
    )
    choice_over_chance: float = field(
        default=0.25,
        metadata={
            "help": "... and at least this much above chance (1 / options), so a slight lean "
            "between two options is not taken for knowledge (2 options: 0.75)."
        },
    )
    numeric_rel_error: float = field(
        default=0.10, metadata={"help": "Numeric: relative error within which a reply counts."}
    )
    reverse_options: bool = field(
        default=True,
        metadata={
            "help": "List the options in reverse order in every second paraphrase, and count a "
            "question as answered only when it is answered right in both orders."
        },
    )


@dataclass(frozen=True)
class BlindVariant:
    """One paraphrase of a question, with its options and answer re-lettered to match."""

    question: str
    options: list[str]
    ground_truth: str
    reversed: bool = False


def blind_variants(sample: Sample, count: int, reverse_options: bool = True) -> list[BlindVariant]:
    """The original question and `count - 1` paraphrases of it (fewer never: rewordings
    fill); with `reverse_options`, the odd ones list the options in reverse order."""
    proposal = sample.proposal
    truth = sample.ground_truth or ""
    task = TASKS.get(proposal.question_type)
    texts = [proposal.question]
    if task is not None:
        texts += paraphrases(task, proposal.question, proposal.template_id)
    texts += [r.format(question=proposal.question) for r in REWORDINGS]
    variants = []
    for k, text in enumerate(dict.fromkeys(texts)):
        if len(variants) >= count:
            break
        options, answer = list(proposal.options), truth
        flip = k % 2 == 1 and reverse_options and bool(options) and truth in proposal.option_letters
        if flip:
            chosen = option_texts(proposal)[proposal.option_letters.index(truth)]
            reordered = list(reversed(option_texts(proposal)))
            options = [f"{OPTION_LETTERS[i]}. {t}" for i, t in enumerate(reordered)]
            answer = OPTION_LETTERS[reordered.index(chosen)]
        variants.append(BlindVariant(text, options, answer, reversed=flip))
    return variants


class BlindCheck(Check):
    """Asks the solver every question without frames; rejects what it gets right anyway."""

    name = "blind"
    config_class = BlindConfig
    config: BlindConfig

    def skip_reason(self, ctx: CheckContext) -> str | None:
        return None if ctx.solver is not None else "no solver given: blind check skipped"

    def run(self, samples: Sequence[Sample], ctx: CheckContext) -> list[Finding | None]:
        from agents.solver.items import SolverItem

        assert ctx.solver is not None
        items: list[SolverItem] = []
        owners: list[int] = []
        orders: list[bool] = []
        findings: list[Finding | None] = [None] * len(samples)
        for i, sample in enumerate(samples):
            variants = blind_variants(sample, self.config.paraphrases, self.config.reverse_options)
            try:
                asked_items = [
                    SolverItem(
                        question=variant.question,
                        options=variant.options,
                        answer_kind=sample.proposal.answer_kind,
                        ground_truth=variant.ground_truth,
                        sample_id=f"{sample.sample_id}#{k}",
                    )
                    for k, variant in enumerate(variants)
                ]
            except ValueError as error:  # e.g. a choice without options, if typed_answer is off
                findings[i] = Finding.reject(
                    RejectReason.CHECK_ERROR, f"blind check cannot ask it: {error}"[:500]
                )
                continue
            items += asked_items
            owners += [i] * len(variants)
            orders += [variant.reversed for variant in variants]
        right = self._judge(items, ctx)
        asked = [0] * len(samples)
        correct = [0] * len(samples)
        orders_asked: list[set[bool]] = [set() for _ in samples]
        orders_right: list[set[bool]] = [set() for _ in samples]
        for owner, order, is_right in zip(owners, orders, right, strict=True):
            asked[owner] += 1
            correct[owner] += int(is_right)
            orders_asked[owner].add(order)
            if is_right:
                orders_right[owner].add(order)
        for i in range(len(samples)):
            in_every_order = orders_right[i] == orders_asked[i]
            if asked[i] and correct[i] >= self.config.min_correct and in_every_order:
                findings[i] = Finding.reject(
                    RejectReason.ANSWERABLE_BLIND,
                    f"answered right without frames in {correct[i]} of {asked[i]} paraphrases",
                )
        return findings

    def _judge(self, items: list[SolverItem], ctx: CheckContext) -> list[bool]:
        """Whether the blind solver got each item right (one batched call per answer kind)."""
        assert ctx.solver is not None
        right = [False] * len(items)
        choice = [k for k, item in enumerate(items) if item.answer_kind == "multiple_choice"]
        numeric = [k for k, item in enumerate(items) if item.answer_kind == "numeric"]
        if choice:
            scores = ctx.solver.confidence([items[k] for k in choice], blind=True)
            for k, score in zip(choice, scores, strict=True):
                right[k] = self._choice_right(items[k], score)
        if numeric:
            answers = ctx.solver.answer([items[k] for k in numeric], blind=True)
            for k, answer in zip(numeric, answers, strict=True):
                right[k] = self._number_right(items[k], answer)
        return right

    def _choice_right(self, item: SolverItem, score: ConfidenceResult) -> bool:
        truth = item.ground_truth or ""
        chance = 1.0 / max(len(item.options), 1)
        needed = max(self.config.choice_confidence, chance + self.config.choice_over_chance)
        if score.letter_probs:
            best = max(score.letter_probs, key=score.letter_probs.__getitem__)
            probability = score.letter_probs.get(truth, 0.0)
            return best == truth and probability >= needed
        return score.confidence >= needed

    def _number_right(self, item: SolverItem, answer: AnswerResult) -> bool:
        truth, reply = parse_number(item.ground_truth), parse_number(answer.answer)
        if truth is None or reply is None:
            return False
        if truth == 0:
            return abs(reply) <= self.config.numeric_rel_error
        return abs(reply - truth) / abs(truth) <= self.config.numeric_rel_error
