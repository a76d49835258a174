"""The ViLaSR transcript gallery: every turn and drawn image of a conversation on the page."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from agents.solver.tool_chat import system_message, tool_call_text, tool_message
from agents.solver.transcript import Transcript
from graphs.report.transcripts import (
    render_transcripts,
    transcript_folders,
    write_transcript_gallery,
)
from tools.drawing.board import DrawingBoard


def drawn_transcript(sample_id: str, answer: str) -> Transcript:
    frames = [Image.new("RGB", (64, 64), (90, 90, 90))]
    board = DrawingBoard(frames)
    out = board.object_mapper(1, [{"bbox_2d": [4, 4, 40, 40], "label": "sofa"}])
    call = tool_call_text("object_mapper", {"image_index": 1, "objects": []})
    return Transcript(
        sample_id=sample_id,
        question="Where is the sofa?",
        answer_kind="multiple_choice",
        ground_truth="A",
        messages=[
            system_message("pixels"),
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]},
            {"role": "assistant", "content": f"<think>box it <b>now</b></think>\n{call}"},
            tool_message("object_mapper", out.content()),
            {"role": "assistant", "content": f"<think>left</think>\n<answer>{answer}</answer>"},
        ],
        images=[*frames, out.image],
        num_frames=1,
        tool_calls=1,
    )


def test_gallery_shows_turns_images_and_outcome(tmp_path: Path) -> None:
    drawn_transcript("right-one", "A").save(tmp_path / "t" / "right-one")
    drawn_transcript("wrong-one", "B").save(tmp_path / "t" / "wrong-one")
    folders = transcript_folders(tmp_path / "t")
    html = render_transcripts(folders)
    assert html.count("<article") == 2 and "(2 of 2)" in html
    assert html.count("data:image/png;base64,") == 4  # each card: the frame and the drawing
    assert 'class="transcript correct"' in html and 'class="transcript wrong"' in html
    assert "&lt;think&gt;box it &lt;b&gt;now&lt;/b&gt;&lt;/think&gt;" in html  # escaped
    assert "<b>now</b>" not in html
    assert "You answer questions" not in html  # the system turn is left out
    assert render_transcripts(folders, max_cards=1).count("<article") == 1
    page = write_transcript_gallery(tmp_path / "t", tmp_path / "gallery.html")
    assert page.read_text().startswith("<!doctype html>")
    assert json.loads((folders[0] / "transcript.json").read_text())["tool_calls"] == 1
