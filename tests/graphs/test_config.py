from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import UserError
from graphs.config import RunConfig, list_presets, load_config, parse_override


def test_default_preset_loads_and_validates() -> None:
    assert "cpu-tiny" in list_presets()
    cfg = load_config("cpu-tiny")
    assert isinstance(cfg, RunConfig)
    assert cfg.preset == "cpu-tiny"
    assert cfg.scenes.source == "procedural"


def test_overrides_are_typed_and_nested() -> None:
    assert parse_override("scenes.num=4") == {"scenes": {"num": 4}}
    assert parse_override("a.b=[1, 2]") == {"a": {"b": [1, 2]}}
    assert parse_override("training.settings.learning_rate=2e-4") == {
        "training": {"settings": {"learning_rate": 2e-4}}
    }
    assert parse_override("solver.model=tiny") == {"solver": {"model": "tiny"}}
    cfg = load_config("cpu-tiny", overrides=["scenes.num=3", "scenes.width=64"])
    assert cfg.scenes.num == 3
    assert cfg.scenes.width == 64


def test_config_file_is_merged_over_the_preset(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("scenes:\n  frames: 8\n")
    cfg = load_config("cpu-tiny", config_file=path, overrides=["scenes.frames=9"])
    assert cfg.scenes.frames == 9
    assert cfg.scenes.height == load_config("cpu-tiny").scenes.height


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "no-such-preset"}, "unknown preset 'no-such-preset'"),
        ({"overrides": ["scenes.num=-1"]}, "scenes.num"),
        ({"overrides": ["scenes.nmu=3"]}, "scenes.nmu"),
        ({"overrides": ["nonsense"]}, "key=value"),
        ({"overrides": ["scenes.source=import"]}, "import_format"),
        ({"config_file": Path("/no/such/file.yaml")}, "not found"),
    ],
)
def test_bad_config_gives_one_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_config(**kwargs)


def test_config_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(UserError, match="mapping"):
        load_config(config_file=path)


def test_the_older_selection_name_feedback_still_loads() -> None:
    """Runs and commands from before the rename say loop.selection=feedback."""
    assert load_config().loop.selection == "all"
    old = load_config(overrides=["loop.selection=feedback"])
    assert old.loop.selection == "all" and old == load_config(overrides=["loop.selection=all"])
