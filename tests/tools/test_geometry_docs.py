"""The example programs in docs/geometry_api.md run and give the right answers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import tools.geometry
from tools.geometry import Ambiguous, SceneView

DOC = Path(__file__).resolve().parents[2] / "docs" / "geometry_api.md"


def example_programs() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def run(program: str, view: SceneView, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "geometry", tools.geometry)  # as the sandbox ships it
    namespace: dict[str, object] = {}
    exec(compile(program, "<doc example>", "exec"), namespace)
    return namespace["solve"](view)


def test_doc_examples(make_scene_dict, monkeypatch: pytest.MonkeyPatch) -> None:
    distance, direction, closest = example_programs()
    view = SceneView(
        make_scene_dict(
            objects=[
                (1, "sofa", (1.0, 1.0, 0.4), (2.0, 0.8, 0.8)),
                (2, "table", (3.5, 1.0, 0.4), (1.0, 0.8, 0.8)),  # 1.0 m gap to the sofa
                (3, "bed", (1.0, 3.0, 0.3), (1.0, 1.0, 0.6)),
                (4, "door", (5.0, 3.0, 1.0), (0.1, 0.9, 2.0)),
                (5, "lamp", (3.0, 3.6, 0.8), (0.3, 0.3, 1.6)),  # ahead and to the left
                (6, "tv", (5.5, 1.0, 1.0), (0.1, 1.0, 0.6)),
                (7, "chair", (5.0, 2.0, 0.4), (0.5, 0.5, 0.8)),
            ]
        )
    )
    assert run(distance, view, monkeypatch) == 1.0
    assert run(direction, view, monkeypatch) == "A"  # front-left
    assert run(closest, view, monkeypatch) == "A"  # the chair (0.25 m vs table 1.45 m)
    crowded = SceneView(
        make_scene_dict(
            objects=[
                (1, "tv", (3.0, 2.0, 1.0), (0.1, 1.0, 0.6)),
                (2, "chair", (2.0, 2.0, 0.4), (0.5, 0.5, 0.8)),
                (3, "sofa", (4.0, 2.0, 0.4), (0.5, 0.5, 0.8)),
                (4, "table", (3.0, 0.5, 0.4), (0.5, 0.5, 0.8)),
            ]
        )
    )
    with pytest.raises(Ambiguous):
        run(closest, crowded, monkeypatch)
