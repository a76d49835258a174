"""The transcript gallery for the ViLaSR solver: what it thought, drew and answered, turn by turn.

Reads transcript folders (``agents.solver.transcript``) and renders a self-contained HTML
section (images inline as PNG data) that the run report can include, or that stands alone.
Frames and drawings are shown at the solver's own size, so the boxes are where it drew them.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from PIL import Image

from agents.solver.transcript import TRANSCRIPT_FILE, Transcript
from common.io import atomic_write_text
from training.rewards import score_answer

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_MAX_CARDS = 24


@dataclass
class ImageView:
    index: int
    data: str


@dataclass
class TurnView:
    role: str
    text: str
    images: list[ImageView] = field(default_factory=list)


@dataclass
class TranscriptCard:
    sample_id: str
    question: str
    answer: str
    ground_truth: str
    correct: bool
    turns: int
    tool_calls: int
    tool_failures: int
    reflections: int
    messages: list[TurnView]


def _png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def card(transcript: Transcript) -> TranscriptCard:
    """One conversation as the template shows it (the system turn is left out)."""
    turns: list[TurnView] = []
    shown = 0
    for message in transcript.messages:
        if message["role"] == "system":
            continue
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        view = TurnView(message["role"], "")
        for part in parts:
            if part.get("type") == "image":
                if shown < len(transcript.images):
                    view.images.append(ImageView(shown + 1, _png(transcript.images[shown])))
                shown += 1
            else:
                view.text += part.get("text") or ""
        turns.append(view)
    answer = transcript.answer_text or ""
    truth = transcript.ground_truth or ""
    correct = bool(truth) and score_answer(answer, truth, transcript.answer_kind) > 0
    return TranscriptCard(
        sample_id=transcript.sample_id or "",
        question=transcript.question,
        answer=answer,
        ground_truth=truth,
        correct=correct,
        turns=transcript.num_turns,
        tool_calls=transcript.tool_calls,
        tool_failures=transcript.tool_failures,
        reflections=transcript.reflections,
        messages=turns,
    )


def transcript_folders(root: str | Path) -> list[Path]:
    return sorted(p.parent for p in Path(root).glob(f"*/{TRANSCRIPT_FILE}"))


def render_transcripts(folders: list[Path], max_cards: int = DEFAULT_MAX_CARDS) -> str:
    """The gallery section's HTML for up to ``max_cards`` transcripts (in folder order)."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    cards = [card(Transcript.load(folder)) for folder in folders[:max_cards]]
    return environment.get_template("transcripts.html").render(cards=cards, total=len(folders))


def write_transcript_gallery(
    root: str | Path, out: str | Path, max_cards: int = DEFAULT_MAX_CARDS
) -> Path:
    """A standalone page of the transcripts under ``root`` (written then renamed)."""
    body = render_transcripts(transcript_folders(root), max_cards)
    page = (
        "<!doctype html><meta charset='utf-8'><title>ViLaSR transcripts</title>"
        "<style>img{width:128px;margin:2px;image-rendering:pixelated}pre{white-space:pre-wrap}"
        ".transcript{border:1px solid #ccc;margin:1em 0;padding:.5em}.wrong{border-color:#c33}"
        ".turn.assistant{background:#f4f8ff}.turn.tool{background:#f8f8f0}.role{font-weight:bold}</style>"
        + body
    )
    out = Path(out)
    atomic_write_text(out, page)
    return out
