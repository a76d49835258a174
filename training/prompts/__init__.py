"""Prompt templates used only in training (the GRPO answer-tag instruction)."""
