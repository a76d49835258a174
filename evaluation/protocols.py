"""Evaluation protocols: which frames a model sees, how they reach it, how replies are read.

    paper      the VSI-Bench paper's harness (thinking-in-space): 32 frames (8 for InternVL2,
               16 for GPT-4o), frames passed as one video through the model's processor
               (aspect ratio kept), numbers read from the reply's first token
    lmms-eval  the paper's inputs, numbers read as current lmms-eval does (the first number
               anywhere in the reply, number words included)
    project    this project's own inputs: separate frame_size x frame_size images, 16 frames
               (or the frame settings saved beside a loop checkpoint), the paper's parse

Every protocol strips replies before parsing, as both harnesses do. Adding a protocol is one
`EvalProtocol` and one line in `PROTOCOLS`. docs/evaluation.md lists the differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.solver.frames import FrameInput, FrameSettings, load_frame_settings
from common.errors import UserError
from evaluation.metrics import NumberParse
from evaluation.video import Rounding

#: The paper's frame count per model family (evaluate_all_in_one.sh: InternVL2 `_8f`,
#: GPT-4o `max_frames_num=16`, every other open model `num_frames=32`).
PAPER_FRAMES_BY_FAMILY: tuple[tuple[str, int], ...] = (("internvl2", 8), ("gpt-4o", 16))
PAPER_DEFAULT_FRAMES = 32
PROJECT_FRAMES = 16
PROJECT_FRAME_SIZE = 448


@dataclass(frozen=True)
class EvalProtocol:
    """One way of evaluating; `frames=None` means the paper's rule for the model family."""

    name: str
    summary: str = field(metadata={"help": "One line for --help and reports."})
    frame_input: FrameInput = field(metadata={"help": "'video' (processor sizes) or 'images'."})
    rounding: Rounding = field(metadata={"help": "How sampled frame positions are rounded."})
    numbers: NumberParse = field(metadata={"help": "How numeric replies become numbers."})
    frames: int | None = field(default=None, metadata={"help": "Frames per question."})
    frame_size: int | None = field(default=None, metadata={"help": "Square size (images)."})


PROTOCOLS: dict[str, EvalProtocol] = {
    "paper": EvalProtocol(
        "paper",
        "VSI-Bench paper: 32 frames as a video through the model's processor, first-token numbers",
        frame_input="video",
        rounding="round",
        numbers="first_token",
    ),
    "lmms-eval": EvalProtocol(
        "lmms-eval",
        "paper inputs, numbers parsed as current lmms-eval (first number anywhere)",
        frame_input="video",
        rounding="round",
        numbers="first_number",
    ),
    "project": EvalProtocol(
        "project",
        "this project's inputs: 16 square 448 px images (or the checkpoint's frame settings)",
        frame_input="images",
        rounding="floor",
        numbers="first_token",
        frames=PROJECT_FRAMES,
        frame_size=PROJECT_FRAME_SIZE,
    ),
}


def get_protocol(name: str) -> EvalProtocol:
    if name not in PROTOCOLS:
        raise UserError(f"unknown --protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def paper_frames(model: str) -> int:
    """The paper's frame count for a model id or folder name (32 unless listed)."""
    lowered = model.lower()
    for family, count in PAPER_FRAMES_BY_FAMILY:
        if family in lowered:
            return count
    return PAPER_DEFAULT_FRAMES


@dataclass(frozen=True)
class EvalInputs:
    """What one evaluation shows the model, and why (`source` is printed and saved)."""

    protocol: EvalProtocol
    frames: int
    frame_size: int | None
    source: str

    @property
    def frame_input(self) -> FrameInput:
        return self.protocol.frame_input

    def settings(self) -> dict[str, object]:
        """The report's record of the inputs."""
        return {
            "protocol": self.protocol.name,
            "frame_input": self.frame_input,
            "frame_rounding": self.protocol.rounding,
            "number_parse": self.protocol.numbers,
            "frame_size": self.frame_size,
            "frame_settings_source": self.source,
        }

    def describe(self) -> str:
        size = f"at {self.frame_size} px" if self.frame_size else "as a video, aspect ratio kept"
        return f"protocol {self.protocol.name}: {self.frames} frames {size} ({self.source})"


def resolve_inputs(
    model: str,
    protocol: str | None = None,
    frames: int | None = None,
    frame_size: int | None = None,
) -> EvalInputs:
    """The protocol and frame settings for `model`.

    With no --protocol, a checkpoint that carries `frame_settings.json` (every loop
    checkpoint) is evaluated as it was trained (`project` with its settings), anything else
    with `paper`; a --frame-size (square images) means `project`. --frames and --frame-size
    override single values.
    """
    saved: FrameSettings | None = None
    if Path(model).is_dir():
        try:
            saved = load_frame_settings(model)
        except ValueError as error:
            raise UserError(str(error)) from error
    default = "project" if saved is not None or frame_size is not None else "paper"
    chosen = get_protocol(protocol or default)
    if chosen.frame_input == "video":
        if frame_size is not None:
            raise UserError(
                f"--frame-size applies to --protocol project (square images); --protocol "
                f"{chosen.name} passes frames as a video and the model's processor sizes them"
            )
        source = "the paper's frame count for this model family"
        if saved is not None:
            source += f"; the checkpoint's own settings ({saved.num_frames} frames at "
            source += f"{saved.frame_size} px) not used"
        return EvalInputs(chosen, frames or paper_frames(model), None, _given(source, frames))
    if saved is not None:
        source = f"saved with the checkpoint in {Path(model) / 'frame_settings.json'}"
        base_frames, base_size = saved.num_frames, saved.frame_size
    else:
        source = "the project protocol's defaults"
        base_frames, base_size = chosen.frames or PROJECT_FRAMES, chosen.frame_size
    given = frames is not None or frame_size is not None
    return EvalInputs(
        chosen,
        frames or base_frames,
        frame_size or base_size or PROJECT_FRAME_SIZE,
        source + ("; overridden on the command line" if given else ""),
    )


def _given(source: str, frames: int | None) -> str:
    return source if frames is None else "--frames on the command line"
