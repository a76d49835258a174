"""Check 5, grounding: every object the question names is visible in the solver's frames.

"Visible" means clearly visible (`FrameView.clearly_visible`, and at least `min_pixels`)
in at least one frame the solver will get: the proposal's `frame_indices`, or the shared
uniform sampling rule (`scenes/sampling.py`) over the trajectory. The objects are the
proposal's `referenced_instances` (for tasks about categories, such as appearance
order, one visible instance per category is enough); a proposal that lists none (an LLM may forget) is held
to the scene categories its question names, one visible instance each. Metadata-only
scenes (no frames) cannot be checked: the sample passes with a recorded note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tools.geometry as g
from agents.records import Sample
from agents.verifier.base import CheckContext, Finding, SampleCheck
from agents.verifier.reasons import RejectReason
from agents.verifier.text import mentioned
from scenes.sampling import uniform_positions

NO_FRAMES_NOTE = "grounding skipped: the scene has no frames (metadata only)"


@dataclass
class GroundingConfig:
    """When an object counts as visible, and which frames the solver gets."""

    min_pixels: int = field(
        default=1,
        metadata={
            "help": "Pixels an object needs in a frame besides being clearly visible "
            "(FrameView.clearly_visible)."
        },
    )
    num_frames: int = field(
        default=16,
        metadata={"help": "Frames the solver samples uniformly when a proposal names none."},
    )
    category_tasks: list[str] = field(
        default_factory=lambda: ["obj_appearance_order"],
        metadata={
            "help": "Tasks that ask about categories, not instances: one visible instance of "
            "each referenced category suffices (a first appearance needs only one)."
        },
    )
    infer_from_question: bool = field(
        default=True,
        metadata={
            "help": "Without referenced_instances, require the categories the question names."
        },
    )


class GroundingCheck(SampleCheck):
    """Rejects questions about objects the solver never gets to see."""

    name = "grounding"
    config_class = GroundingConfig
    config: GroundingConfig

    def check_one(self, sample: Sample, ctx: CheckContext) -> Finding | None:
        proposal = sample.proposal
        view = ctx.view(proposal.scene_id)
        if view is None:
            return None  # execution already rejects unknown scenes
        if not view.frames:
            return Finding.note(NO_FRAMES_NOTE)
        frames = self.solver_frames(view, proposal.frame_indices)
        missing_frames = [i for i in frames if not view.has_frame(i)]
        if missing_frames:
            return Finding.reject(
                RejectReason.NOT_GROUNDED, f"the scene has no frames {missing_frames[:5]}"
            )
        visible = self.visible_ids(view, frames)
        if proposal.referenced_instances:
            unknown = [i for i in proposal.referenced_instances if i not in _ids(view)]
            if unknown:
                return Finding.reject(
                    RejectReason.NOT_GROUNDED, f"the scene has no instances {unknown[:5]}"
                )
            unseen = [i for i in proposal.referenced_instances if i not in visible]
            if proposal.question_type in self.config.category_tasks:
                seen_categories = {
                    view.object(i).category for i in proposal.referenced_instances if i in visible
                }
                unseen = [i for i in unseen if view.object(i).category not in seen_categories]
            if unseen:
                names = ", ".join(f"{view.object(i).category} #{i}" for i in unseen[:5])
                return Finding.reject(
                    RejectReason.NOT_GROUNDED,
                    f"not visible in the solver's {len(frames)} frames: {names}",
                )
            return None
        if not self.config.infer_from_question:
            return None
        for category in mentioned(proposal.question, view.categories()):
            instances = view.objects_of(category)
            if instances and not any(o.instance_id in visible for o in instances):
                return Finding.reject(
                    RejectReason.NOT_GROUNDED,
                    f"the question names {category!r}, which no solver frame shows",
                )
        return None

    def solver_frames(self, view: g.SceneView, frame_indices: list[int] | None) -> list[int]:
        if frame_indices is not None:
            return list(frame_indices)
        indices = [f.index for f in view.frames]
        return [indices[p] for p in uniform_positions(len(indices), self.config.num_frames)]

    def visible_ids(self, view: g.SceneView, frames: list[int]) -> set[int]:
        seen: set[int] = set()
        for index in frames:
            frame = view.frame(index)
            seen.update(
                i
                for i, n in frame.visible.items()
                if n >= self.config.min_pixels and frame.clearly_visible(i)
            )
        return seen


def _ids(view: g.SceneView) -> set[int]:
    return {o.instance_id for o in view.objects}
