"""Audit records of the LLM proposer: every attempt's full trajectory, one JSON line each.

A trajectory holds the messages (system prompt, requests, replies, tool calls and results;
image bytes replaced by the frame they showed), every model call's latency, token counts and
retries, and the outcome with its reason. `TrajectoryLog` appends lines with one `write` on
a file opened in append mode, so concurrent attempts (and processes) never interleave lines.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import BaseMessage, messages_to_dict
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from agents.records import Proposal

Outcome = Literal["submitted", "withdrawn", "failed"]


class ModelCall(BaseModel):
    """One model request as the agent made it (after retries)."""

    node: str = Field(description="Graph node that called the model: agent or recheck.")
    latency_s: float = Field(ge=0, description="Wall time including retries and backoff.")
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    retries: int = Field(default=0, ge=0)
    errors: list[str] = Field(default_factory=list, description="Transient errors retried.")
    tool_calls: list[str] = Field(default_factory=list, description="Names of tools it called.")


class Recheck(BaseModel):
    """The optional re-check's verdict on a submitted question."""

    keep: bool
    reason: str = ""


class Trajectory(BaseModel):
    """One attempt: what was asked, everything said, what came out, why."""

    model_config = ConfigDict(extra="forbid")

    attempt_id: str
    proposer_id: str
    model: str
    scene_id: str
    question_type: str
    level: int
    started_at: float = Field(description="Unix time the attempt started.")
    duration_s: float = Field(ge=0)
    outcome: Outcome
    reason: str | None = Field(default=None, description="Why it failed or was withdrawn (a code).")
    detail: str = Field(default="", description="The reason in words (errors, limits).")
    proposal: Proposal | None = None
    executed_value: JsonValue = None
    ground_truth: str | None = None
    recheck: Recheck | None = None
    tool_calls: int = Field(default=0, ge=0)
    errors: int = Field(default=0, ge=0, description="Invalid calls and replies sent back.")
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    model_calls: list[ModelCall] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)


def audit_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Messages as JSON-safe dicts, with base64 image data replaced by a short note."""
    return [_strip_images(item) for item in messages_to_dict(list(messages))]


def _strip_images(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "image" and "base64" in value:
            source = (value.get("extras") or {}).get("frame_source", "")
            return {
                "type": "image",
                "mime_type": value.get("mime_type"),
                "omitted_bytes": len(value["base64"]) * 3 // 4,
                "source": source,
            }
        return {key: _strip_images(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strip_images(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


class TrajectoryLog:
    """Appends trajectories to a JSONL file, one line per attempt, safe across threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, trajectory: Trajectory) -> None:
        line = (json.dumps(trajectory.model_dump(mode="json"), ensure_ascii=False) + "\n").encode()
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = 0
                while written < len(line):  # one write in practice; loop for short writes
                    written += os.write(descriptor, line[written:])
            finally:
                os.close(descriptor)


def read_trajectories(path: str | Path) -> list[Trajectory]:
    """Every trajectory in a JSONL file (for audits and tests)."""
    lines: Iterable[str] = Path(path).read_text(encoding="utf-8").splitlines()
    return [Trajectory.model_validate_json(line) for line in lines if line.strip()]
