"""The smallest loop that still exercises every node (shared by the loop tests)."""

TINY_LOOP = [
    "scenes.num=2",
    "scenes.frames=8",
    "scenes.width=64",
    "scenes.height=48",
    "proposer.per_iteration=24",
    "solver.settings.num_frames=2",
    "training.settings.steps_per_iteration=2",
    "evaluation.settings.size=12",
    "evaluation.settings.num_scenes=2",
    "evaluation.settings.walkthrough_frames=8",
    "evaluation.settings.width=64",
    "evaluation.settings.height=48",
    "evaluation.settings.question_frames=2",
    "loop.iterations=2",
    "sandbox.timeout_s=60",
]
#: The same loop without held-out evaluation (its settings would be an error then).
TINY_LOOP_NO_EVALUATION = [
    *(item for item in TINY_LOOP if not item.startswith("evaluation.")),
    "evaluation.enabled=false",
]
