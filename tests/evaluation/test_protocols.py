"""Protocols and the frame settings an evaluation picks: the paper's rule, the settings saved
beside a checkpoint, and command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.solver.frames import FRAME_SETTINGS_FILE, FrameSettings, save_frame_settings
from common.errors import UserError
from evaluation.protocols import PROTOCOLS, paper_frames, resolve_inputs
from evaluation.video import uniform_frame_indices


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    folder = tmp_path / "iteration-000" / "checkpoint-8"
    folder.mkdir(parents=True)
    save_frame_settings(folder, FrameSettings(num_frames=4, frame_size=64))
    return folder


@pytest.mark.parametrize(
    ("model", "frames"),
    [
        ("Qwen/Qwen3-VL-4B-Instruct", 32),
        ("lmms-lab/llava-onevision-qwen2-7b-ov", 32),
        ("OpenGVLab/InternVL2-8B", 8),
        ("gpt-4o-2024-08-06", 16),
    ],
)
def test_paper_frames_follow_evaluate_all_in_one(model: str, frames: int) -> None:
    assert paper_frames(model) == frames


def test_a_hub_model_gets_the_paper_protocol() -> None:
    inputs = resolve_inputs("Qwen/Qwen3-VL-4B-Instruct")
    assert inputs.protocol.name == "paper"
    assert (inputs.frames, inputs.frame_size, inputs.frame_input) == (32, None, "video")
    assert inputs.protocol.numbers == "first_token" and inputs.protocol.rounding == "round"


def test_a_loop_checkpoint_is_evaluated_as_it_was_trained(checkpoint: Path) -> None:
    inputs = resolve_inputs(str(checkpoint))
    assert inputs.protocol.name == "project"
    assert (inputs.frames, inputs.frame_size, inputs.frame_input) == (4, 64, "images")
    assert str(checkpoint / FRAME_SETTINGS_FILE) in inputs.describe()


def test_the_command_line_overrides_the_checkpoint(checkpoint: Path) -> None:
    sized = resolve_inputs(str(checkpoint), frame_size=448)
    assert (sized.frames, sized.frame_size) == (4, 448)
    assert "overridden" in sized.source
    paper = resolve_inputs(str(checkpoint), protocol="paper")
    assert (paper.frames, paper.frame_input) == (32, "video")
    assert "not used" in paper.source
    lmms = resolve_inputs(str(checkpoint), protocol="lmms-eval", frames=16)
    assert lmms.frames == 16 and lmms.protocol.numbers == "first_number"


def test_a_frame_size_without_a_protocol_means_square_images(tmp_path: Path) -> None:
    inputs = resolve_inputs(str(tmp_path), frame_size=64)
    assert inputs.protocol.name == "project" and (inputs.frames, inputs.frame_size) == (16, 64)


def test_mistakes_are_refused_with_the_fix(tmp_path: Path, checkpoint: Path) -> None:
    with pytest.raises(UserError, match="--frame-size applies to --protocol project"):
        resolve_inputs("Qwen/Qwen3-VL-4B-Instruct", protocol="paper", frame_size=448)
    with pytest.raises(UserError, match="unknown --protocol 'papers'"):
        resolve_inputs("m", protocol="papers")
    (checkpoint / FRAME_SETTINGS_FILE).write_text('{"num_frames": 0}')
    with pytest.raises(UserError, match="not a valid frame settings file"):
        resolve_inputs(str(checkpoint))


def test_every_protocol_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "evaluation.md").read_text()
    for name in PROTOCOLS:
        assert f"`{name}`" in docs


def test_qwen_rounding_differs_from_llava_flooring() -> None:
    assert uniform_frame_indices(40, 8, "floor") == [0, 5, 11, 16, 22, 27, 33, 39]
    # qwen-vl-utils: torch.linspace(0, 39, 8).round() -> 5.57 rounds up, 16.71 up, ...
    assert uniform_frame_indices(40, 8, "round") == [0, 6, 11, 17, 22, 28, 33, 39]
    assert uniform_frame_indices(5, 8, "round") == [0, 1, 2, 3, 4]
