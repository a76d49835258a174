"""The hybrid cold start's SFT rows and batches (the data comes from `training.coldstart`).

Direct rows are the solver's usual prompt and letter (trained on the letter, as in every
SFT iteration); reasoning rows add the answer-tag instruction to the prompt and train the
whole reply `<think>...</think><answer>X</answer>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from agents.records import Sample
from agents.solver.encoding import encode_ids, scoring_text
from agents.solver.frames import resize_frames
from agents.solver.prompts import assistant_message, render_question, user_message
from agents.solver.scoring import encode_batch
from scenes.schema import Scene
from training.coldstart import choose_reasoning, reasoning_reply
from training.collator import SolverCollator, row_item, trained_length
from training.config import SFTSettings
from training.data import (
    SceneSource,
    _dataset,
    answer_tags_instruction,
    sample_columns,
    training_samples,
)
from training.iterations import SolverTrainer
from training.packing import IGNORE_INDEX
from training.sft import sft_trainer


def build_hybrid_dataset(
    samples: Sequence[Sample],
    scenes: SceneSource,
    frame_size: int,
    reasoning_fraction: float = 0.1,
    seed: int = 0,
) -> Any:
    """SFT rows: most answer with the letter, `reasoning_fraction` with think + answer tags.

    Rows carry `reasoning` (the reply to train, or "" for a direct answer) besides the
    usual columns; `HybridCollator` reads it."""
    entries = training_samples(samples, scenes, num_frames=2)
    chosen = choose_reasoning([e.sample.sample_id for e in entries], reasoning_fraction, seed)
    loaded: dict[Path, Scene] = {}
    rows = []
    for entry in entries:
        row = sample_columns(entry)
        row["images"] = [str(path) for path in entry.frame_files]
        row["reasoning"] = ""
        proposal = entry.sample.proposal
        text = render_question(proposal.question, proposal.options, proposal.answer_kind)
        reply = str(entry.sample.ground_truth)
        if entry.sample.sample_id in chosen:
            scene = loaded.setdefault(entry.scene_dir, Scene.load(entry.scene_dir))
            reply = row["reasoning"] = reasoning_reply(entry.sample, scene)
            text = f"{text}\n{answer_tags_instruction(proposal.answer_kind)}"
        n = len(entry.frame_files)
        row["messages"] = [user_message(text, n), assistant_message(reply)]
        rows.append(row)
    return _dataset(rows, frame_size)


class HybridCollator(SolverCollator):
    """The solver's collator for direct rows; reasoning rows train their whole reply."""

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        images = [resize_frames(list(row["images"]), self.frame_size) for row in rows]
        texts, trained = [], []
        for row, frames in zip(rows, images, strict=True):
            if row.get("reasoning"):
                user = row["messages"][0]
                prompt = self.processor.apply_chat_template(
                    [user], tokenize=False, add_generation_prompt=True
                )
                full = self.processor.apply_chat_template(row["messages"], tokenize=False)
                if not full.startswith(prompt):
                    raise ValueError("the chat template renders the reply apart from its prompt")
                reply = encode_ids(self.processor.tokenizer, full[len(prompt) :])
                texts.append(full)
                trained.append((len(reply), len(reply)))
            else:
                text = scoring_text(
                    self.processor, row_item(row), len(frames), self.include_end_of_turn
                )
                answer = trained_length(
                    self.processor, text, str(row["ground_truth"]), self.train_end_of_turn
                )
                texts.append(text.full_text)
                trained.append((len(text.reply_ids), answer))
        batch = encode_batch(self.processor, texts, images, "right")
        labels = torch.full_like(batch["input_ids"], IGNORE_INDEX)
        for row, (reply_length, length) in enumerate(trained):
            end = int(batch["attention_mask"][row].nonzero()[-1, 0]) + 1
            start = end - reply_length
            labels[row, start : start + length] = batch["input_ids"][row, start : start + length]
        batch["labels"] = labels
        batch["answer_segments"] = torch.zeros_like(batch["input_ids"])
        batch["sample_ids"] = [[row.get("sample_id")] for row in rows]
        return batch


class HybridTrainer(SolverTrainer):
    """SolverTrainer (stage 'coldstart') on hybrid rows with the hybrid collator."""

    def __init__(
        self, settings: SFTSettings, run_dir: Path, reasoning_fraction: float, mix_seed: int
    ) -> None:
        super().__init__(settings.replace(record_confidence=False), run_dir, stage="coldstart")
        self.reasoning_fraction = reasoning_fraction
        self.mix_seed = mix_seed

    def _dataset(self, samples: list[Sample], scenes: SceneSource) -> Any:
        return build_hybrid_dataset(
            samples, scenes, self.settings.frame_size, self.reasoning_fraction, self.mix_seed
        )

    def _trainer(
        self, model: Any, processor: Any, dataset: Any, folder: Path, target: int, skip: bool
    ) -> Any:
        settings = self.settings
        trainer = sft_trainer(settings, model, processor, dataset, folder, target, skip)
        trainer.data_collator = HybridCollator(
            processor, settings.frame_size, settings.train_end_of_turn, False
        )
        return trainer
