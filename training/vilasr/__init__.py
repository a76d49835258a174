"""ViLaSR's training: cold start from exact ground truth, reflective rejection sampling, tool GRPO.

See docs/vilasr.md; the loop runs it as the ``vilasr`` recipe (``training.vilasr.recipe``).
"""
