"""docs/verifier.md: every check and reason is documented, and the "Adding a check" example
plugs in with one registry line and decides samples as written."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agents.tasks.demo_scene import demo_scene
from agents.verifier import CHECKS, RejectReason, Verifier, VerifierConfig
from tests.agents.verifier_helpers import outcomes, sample

DOC = Path(__file__).resolve().parents[2] / "docs" / "verifier.md"


def _example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    section = DOC.read_text().split("## Adding a check", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    module = ModuleType("seen_twice")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look it up
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    return module


def test_every_check_and_reason_is_documented() -> None:
    text = DOC.read_text()
    for name in [*CHECKS, "intake", *(r.value for r in RejectReason)]:
        assert f"`{name}`" in text, name


def test_the_documented_check_plugs_in_with_one_registry_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen_twice = _example(monkeypatch).SeenTwice
    registry = {**CHECKS, "seen_twice": seen_twice}  # the one registry line
    config = VerifierConfig(checks=["seen_twice"])
    scene = demo_scene()
    # the plant (#6) shows in frames 0 and 21, the tv (#3) in frame 21 only
    both = sample(
        "1", question="How big is the plant?", referenced_instances=[6], frame_indices=[0, 21]
    )
    once = sample(
        "1", question="How big is the tv?", referenced_instances=[3], frame_indices=[0, 21]
    )
    report = Verifier(config, registry=registry).verify([both, once], {scene.id: scene})
    assert outcomes(report) == ["accepted", "not_grounded"]
    assert report.audits[1].check == "seen_twice"
