"""Adding a proposer by following docs/loop.md ('Adding a proposer') word for word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents import proposers
from agents.proposers import make_proposer
from agents.tasks.demo_scene import demo_scene
from common.errors import UserError
from graphs.config import load_config
from graphs.runtime import check_settings, proposer_arms, proposer_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "loop.md"


def documented_proposer() -> type:
    section = DOCS.read_text(encoding="utf-8").split("## Adding a proposer", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace["LevelOneProposer"]


def test_a_new_proposer_is_one_class_and_one_registry_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(UserError, match="unknown proposer 'level_one'"):
        load_config(overrides=["proposer.kind=level_one"])
    monkeypatch.setitem(proposers.PROPOSERS, "level_one", documented_proposer())

    cfg = load_config(overrides=["proposer.kind=level_one", "proposer.settings.refill=false"])
    check_settings(cfg)
    arms = proposer_arms(cfg)
    assert arms and {level for _, level in arms} == {1}
    proposer = make_proposer("level_one", proposer_settings(cfg))
    assert proposer.proposer_id == "level_one" and proposer.config.refill is False
    batch = proposer.propose([demo_scene()], {arm: 1 for arm in arms[:4]})
    assert batch.proposals and {p.level for p in batch.proposals} == {1}
