"""From a question to chat text and the exact reply tokens that teacher forcing scores.

The reply tokens are the ones the model's own chat template produces for the assistant
turn (e.g. ``B<|im_end|>\\n`` for Qwen). The confidence counts the answer's tokens (the
leading part of the reply) and, when configured, the end-of-turn token after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedTokenizerBase, ProcessorMixin

from agents.records import OPTION_LETTERS
from agents.solver.items import SolverItem
from agents.solver.prompts import assistant_message, render_question, user_message


@dataclass(frozen=True)
class ScoringText:
    """One item ready for teacher forcing: the full chat text and what to score in it."""

    prompt_text: str  # the chat up to and including the assistant header
    full_text: str  # prompt_text + the rendered reply
    reply_ids: tuple[int, ...]  # token ids of the rendered reply, in order
    scored_count: int  # how many leading reply tokens enter the confidence
    letters: tuple[str, ...]  # option letters (multiple choice), else empty
    letter_ids: tuple[int, ...]  # their token ids at the answer position

    @property
    def scored_ids(self) -> tuple[int, ...]:
        return self.reply_ids[: self.scored_count]


def prompt_text(
    processor: ProcessorMixin, item: SolverItem, num_images: int, video: bool = False
) -> str:
    """The chat text a model sees before it answers (with the generation prompt)."""
    question = render_question(item.question, item.options, item.answer_kind)
    return processor.apply_chat_template(
        [user_message(question, num_images, video)], tokenize=False, add_generation_prompt=True
    )


def encode_ids(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def letter_token_ids(tokenizer: PreTrainedTokenizerBase, letters: list[str]) -> list[int]:
    """Token id of each option letter as a one-token reply; the letter distribution needs them."""
    ids = []
    for letter in letters:
        encoded = encode_ids(tokenizer, letter)
        if len(encoded) != 1:
            raise ValueError(
                f"option letter {letter!r} is {len(encoded)} tokens for this tokenizer; the letter "
                "distribution needs single-token letters (true for Qwen tokenizers)"
            )
        ids.append(encoded[0])
    return ids


def scoring_text(
    processor: ProcessorMixin,
    item: SolverItem,
    num_images: int,
    include_end_of_turn: bool = False,
) -> ScoringText:
    """Chat text with the ground truth as the assistant reply, and the reply's token ids."""
    if item.ground_truth is None:
        raise ValueError(
            f"item {item.sample_id or item.question[:40]!r} has no ground_truth; confidence "
            "scores the ground-truth answer, so execute the sample's program first"
        )
    answer = item.ground_truth.strip()
    tokenizer = processor.tokenizer
    letters: list[str] = []
    if item.answer_kind == "multiple_choice":
        letters = [OPTION_LETTERS[i] for i in range(len(item.options))]
        if answer not in letters:
            raise ValueError(
                f"ground truth {answer!r} is not one of the option letters {letters} "
                f"(item {item.sample_id or item.question[:40]!r})"
            )
    prompt = prompt_text(processor, item, num_images)
    question = render_question(item.question, item.options, item.answer_kind)
    messages: list[dict[str, Any]] = [user_message(question, num_images), assistant_message(answer)]
    full = processor.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise ValueError(
            "the chat template renders the conversation differently from the generation prompt; "
            "teacher forcing needs the reply to extend the prompt text"
        )
    reply_ids = encode_ids(tokenizer, full[len(prompt) :])
    answer_ids = encode_ids(tokenizer, answer)
    if tuple(reply_ids[: len(answer_ids)]) != tuple(answer_ids):
        raise ValueError(
            f"the template's reply {full[len(prompt) :]!r} does not start with the answer's tokens; "
            "this chat template is not supported for scoring"
        )
    scored = len(answer_ids) + (
        1 if include_end_of_turn and len(reply_ids) > len(answer_ids) else 0
    )
    return ScoringText(
        prompt_text=prompt,
        full_text=full,
        reply_ids=tuple(reply_ids),
        scored_count=scored,
        letters=tuple(letters),
        letter_ids=tuple(letter_token_ids(tokenizer, letters)) if letters else (),
    )
