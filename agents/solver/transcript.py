"""A multi-turn drawing conversation as a record: messages, the images they show, the outcome.

Messages use the chat format with image *placeholders* (``{"type": "image"}``); the images
themselves sit in ``images`` in the order the placeholders appear, so a transcript renders
with any processor and saves as JSON plus PNGs (``save`` writes into a temporary folder and
renames it into place, so a crash never leaves half a transcript).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

TRANSCRIPT_FILE = "transcript.json"
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


class Transcript(BaseModel):
    """One question answered over several turns, with every image shown or drawn."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sample_id: str | None = None
    question: str
    answer_kind: str
    ground_truth: str | None = None
    messages: list[dict[str, Any]] = Field(description="Chat messages, images as placeholders.")
    images: list[Any] = Field(default_factory=list, description="PIL images in placeholder order.")
    num_frames: int = Field(default=0, description="Images that are video frames (the rest drawn).")
    tool_calls: int = 0
    tool_failures: int = 0
    reflections: int = 0

    @property
    def assistant_texts(self) -> list[str]:
        return [
            m["content"] if isinstance(m["content"], str) else _text(m["content"])
            for m in self.messages
            if m["role"] == "assistant"
        ]

    @property
    def final_text(self) -> str:
        texts = self.assistant_texts
        return texts[-1] if texts else ""

    @property
    def answer_text(self) -> str | None:
        found = _ANSWER.findall(self.final_text)
        return found[-1].strip() if found else None

    @property
    def num_turns(self) -> int:
        return len(self.assistant_texts)

    def save(self, folder: str | Path) -> Path:
        """Write ``transcript.json`` and ``images/NN.png`` into ``folder`` (replaced whole)."""
        folder = Path(folder)
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        (tmp / "images").mkdir(parents=True)
        names = []
        for i, image in enumerate(self.images):
            name = f"images/{i:02d}.png"
            image.save(tmp / name)
            names.append(name)
        data = self.model_dump(exclude={"images"})
        data["image_files"] = names
        (tmp / TRANSCRIPT_FILE).write_text(json.dumps(data, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Transcript:
        folder = Path(folder)
        data = json.loads((folder / TRANSCRIPT_FILE).read_text(encoding="utf-8"))
        files = data.pop("image_files", [])
        images = []
        for name in files:
            with Image.open(folder / name) as image:
                images.append(image.convert("RGB"))
        return cls(**data, images=images)


def _text(content: list[dict[str, Any]]) -> str:
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")
