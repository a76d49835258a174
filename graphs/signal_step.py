"""The loop's scoring step and what the feedback step reads back from it.

`score_iteration` runs the configured difficulty signal (agents/signals) over a round's
accepted samples; for learning_progress it also keeps the run's fixed probe set
(`probe.parquet`, grown once per new arm) and writes the probe's per-arm means next to the
round (`probe.json`, written before the scored file, so a resumed run finds both or
neither). `requested_slots`, `arm_progress` and `quota_record` serve the feedback node.
"""

from __future__ import annotations

from typing import Any

from agents.curriculum import Arm, DifficultyFeedback
from agents.records import Sample
from agents.signals.learning_progress import LearningProgress
from graphs.runtime import LoopRuntime


def _items(rt: LoopRuntime, samples: list[Sample], num_frames: int) -> list[Any]:
    from agents.solver.items import SolverItem

    scenes, dirs = rt.scenes(), rt.scene_dirs()
    return [
        SolverItem.from_sample(
            s, dirs[s.proposal.scene_id], scenes[s.proposal.scene_id], num_frames
        )
        for s in samples
    ]


def _arm(sample: Sample) -> Arm:
    return (sample.proposal.question_type, sample.proposal.level)


def score_iteration(rt: LoopRuntime, checkpoint: str, iteration: int) -> None:
    """Score every accepted sample of `iteration` with the configured signal; write scored."""
    store = rt.store
    accepted = [
        s for s in store.read_samples(store.samples_path(iteration)) if s.verdict == "accepted"
    ]
    signal = rt.signal()
    solver = rt.solver(checkpoint)
    if isinstance(signal, LearningProgress):
        probe = update_probe(rt, accepted, signal.probe_per_arm)
        means = signal.probe_means(
            solver, _items(rt, probe, solver.config.num_frames), [_arm(s) for s in probe]
        )
        store.write_json(
            store.iteration_dir(iteration) / "probe.json",
            {"means": [[t, lvl, m] for (t, lvl), m in sorted(means.items())]},
        )
    values = (
        signal.score(solver, _items(rt, accepted, solver.config.num_frames)) if accepted else []
    )
    scored = [value.apply_to(sample) for sample, value in zip(accepted, values, strict=True)]
    store.write_samples(store.scored_path(iteration), scored)


def update_probe(rt: LoopRuntime, accepted: list[Sample], per_arm: int) -> list[Sample]:
    """The run's probe set, after adding up to `per_arm` samples for arms it lacks."""
    path = rt.store.root / "probe.parquet"
    probe = rt.store.read_samples(path) if path.exists() else []
    have = {_arm(s) for s in probe}
    added: dict[Arm, int] = {}
    for sample in sorted(accepted, key=lambda s: s.sample_id):
        arm = _arm(sample)
        if arm not in have and added.get(arm, 0) < per_arm:
            probe.append(sample)
            added[arm] = added.get(arm, 0) + 1
    if added or not path.exists():
        rt.store.write_samples(path, probe)
    return probe


def arm_progress(rt: LoopRuntime, iteration: int) -> dict[Arm, float]:
    """learning_progress's EMA of |probe change| per arm over rounds 0..iteration."""
    signal = rt.signal()
    rounds = []
    for i in range(iteration + 1):
        path = rt.store.iteration_dir(i) / "probe.json"
        if path.exists():
            data = rt.store.read_json(path)
            rounds.append({(t, int(lvl)): float(m) for t, lvl, m in data["means"]})
    return signal.progress(rounds)


def with_progress(feedback: DifficultyFeedback, progress: dict[Arm, float]) -> DifficultyFeedback:
    """Arms' learnability replaced by their learning progress (unmeasured: the best known)."""
    if not progress:
        return feedback
    fallback = max(progress.values())
    arms = [
        a.model_copy(update={"mean_learnability": min(1.0, progress.get(a.arm, fallback))})
        for a in feedback.arms
    ]
    return feedback.model_copy(update={"arms": arms})


def requested_slots(rt: LoopRuntime, iteration: int) -> dict[Arm, int]:
    """What the plan asked for per arm this round (empty if no plan file)."""
    path = rt.store.iteration_dir(iteration) / "plan.json"
    if not path.exists():
        return {}
    return {(t, int(lvl)): int(n) for t, lvl, n in rt.store.read_json(path)["quotas"]}


def quota_record(
    requested: dict[Arm, int], made: dict[Arm, int], previous: dict[Arm, int] | None
) -> dict[str, Any]:
    """Per-arm requested/made slots and the shift of quota shares since the last round.

    shift = half the L1 distance between the two rounds' quota shares (0: same split,
    1: disjoint arms); None in the first round.
    """
    rows = [[t, lvl, n, made.get((t, lvl), 0)] for (t, lvl), n in sorted(requested.items())]
    shift = None
    if previous and sum(previous.values()) and sum(requested.values()):
        old_total, new_total = sum(previous.values()), sum(requested.values())
        arms = set(previous) | set(requested)
        shift = 0.5 * sum(
            abs(requested.get(a, 0) / new_total - previous.get(a, 0) / old_total) for a in arms
        )
    return {"quotas": rows, "quota_shift": shift}
