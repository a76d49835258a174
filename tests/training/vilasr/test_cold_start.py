"""Cold-start trajectories from exact ground truth: plans, real drawings, ViLaSR's filter."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from agents.records import Sample
from agents.solver.transcript import Transcript
from scenes.schema import Scene
from tools.drawing.frame_geometry import FrameGeometry
from training.vilasr.cold_start import (
    ColdStartSettings,
    build_cold_start,
    filter_reason,
)
from training.vilasr.plans import plan_drawings
from training.vilasr.rewards import multi_turn_format, reflected


def scene_dirs(root: Path) -> dict[str, Path]:
    return {Scene.load(folder).id: folder for folder in sorted(root.iterdir())}


@pytest.fixture(scope="module")
def written(
    vilasr_samples: list[Sample], vilasr_scenes: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[Path], dict[str, int]]:
    out = tmp_path_factory.mktemp("cold")
    return build_cold_start(
        vilasr_samples, vilasr_scenes, out, ColdStartSettings(reflection_rate=0.5)
    )


def test_every_written_trajectory_passes_vilasrs_filter(
    written: tuple[list[Path], dict[str, int]],
) -> None:
    folders, dropped = written
    assert len(folders) >= 5
    for folder in folders:
        transcript = Transcript.load(folder)
        assert filter_reason(transcript) is None
        assert transcript.num_turns >= 3 and transcript.tool_failures == 0
        assert len(transcript.images) == transcript.num_frames + transcript.tool_calls
    assert set(dropped) <= {"nothing_to_draw", "too_few_rounds"}


def test_synthetic_reflection_redraws_the_same_label(
    written: tuple[list[Path], dict[str, int]],
) -> None:
    transcripts = [Transcript.load(folder) for folder in written[0]]
    corrected = [t for t in transcripts if "corrected box" in "".join(t.assistant_texts)]
    assert corrected and len(corrected) < len(transcripts)  # reflection_rate 0.5 gives both
    for transcript in corrected:
        assert transcript.reflections >= 1 and reflected(transcript.assistant_texts) == 1.0
        assert filter_reason(transcript, need_reflection=True) is None


def test_drawn_boxes_are_the_exact_boxes_of_the_instances(
    vilasr_samples: list[Sample], vilasr_scenes: Path
) -> None:
    dirs = scene_dirs(vilasr_scenes)
    checked = 0
    for sample in vilasr_samples:
        scene = Scene.load(dirs[sample.proposal.scene_id])
        geometry = FrameGeometry(scene, 64)
        frames = list(sample.proposal.frame_indices or [])
        for step in plan_drawings(sample, scene, geometry, frames):
            if step.tool != "object_mapper":
                continue
            boxes = geometry.boxes(frames[step.frame])
            for item, instance_id in zip(step.items, step.instance_ids, strict=True):
                camera = sample.proposal.question_type.startswith("camera_")  # a shared object
                assert camera or instance_id in sample.proposal.referenced_instances
                assert item["label"].startswith(scene.object(instance_id).category)
                assert item["bbox_2d"] == [round(v) for v in boxes[instance_id].as_list()]
                checked += 1
        geometry.close()
    assert checked >= 5


def test_direction_and_route_questions_draw_lines_between_box_centres(
    vilasr_samples: list[Sample], vilasr_scenes: Path
) -> None:
    dirs = scene_dirs(vilasr_scenes)
    lines = 0
    for sample in vilasr_samples:
        kind = sample.proposal.question_type
        if not (kind.startswith("object_rel_direction") or kind == "route_planning"):
            continue
        scene = Scene.load(dirs[sample.proposal.scene_id])
        geometry = FrameGeometry(scene, 64)
        steps = plan_drawings(sample, scene, geometry, list(sample.proposal.frame_indices or []))
        for boxes_step, line_step in pairwise(steps):
            if line_step.tool != "path_tracer":
                continue
            assert boxes_step.tool == "object_mapper" and line_step.frame == -1
            centres = {
                item["label"]: [
                    round(v)
                    for v in geometry.boxes(sample.proposal.frame_indices[boxes_step.frame])[
                        iid
                    ].center
                ]
                for item, iid in zip(boxes_step.items, boxes_step.instance_ids, strict=True)
            }
            for line in line_step.items:
                assert line["start_point_2d"] in centres.values()
                assert line["end_point_2d"] in centres.values()
                lines += 1
            labels = {line["label"] for line in line_step.items}
            if kind.startswith("object_rel"):
                assert labels <= {"facing", "to query"}
            else:
                assert all(label.startswith("leg ") for label in labels)
        geometry.close()
    assert lines >= 2


def test_the_filter_rejects_wrong_answers_failed_drawings_and_short_talks(
    written: tuple[list[Path], dict[str, int]],
) -> None:
    transcript = Transcript.load(written[0][0])
    wrong_truth = "Z" if transcript.answer_kind == "multiple_choice" else "12345"
    assert filter_reason(transcript.model_copy(update={"ground_truth": wrong_truth})) == "incorrect"
    assert filter_reason(transcript.model_copy(update={"tool_failures": 1})) == "drawing_failed"
    assert filter_reason(transcript, min_rounds=99) == "too_few_rounds"
    broken = [dict(m) for m in transcript.messages]
    first = next(m for m in broken if m["role"] == "assistant")
    first["content"] = first["content"].replace("<think>", "")
    assert multi_turn_format([m["content"] for m in broken if m["role"] == "assistant"]) == 0.0
    assert filter_reason(transcript.model_copy(update={"messages": broken})) == "bad_format"


def test_norm1000_trajectories_write_relative_coordinates(
    vilasr_samples: list[Sample], vilasr_scenes: Path, tmp_path: Path
) -> None:
    folders, _ = build_cold_start(
        vilasr_samples[:6], vilasr_scenes, tmp_path, ColdStartSettings(coordinates="norm1000")
    )
    assert folders
    transcript = Transcript.load(folders[0])
    assert "0 to 1000" in transcript.messages[0]["content"][0]["text"]
    assert filter_reason(transcript) is None
