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


def test_old_question_frames_moves_to_the_solver_or_says_what_to_do() -> None:
    old = {"proposer": {"question_frames": 4}, "solver": {"settings": {"num_frames": 4}}}
    assert RunConfig.model_validate(old).solver.settings["num_frames"] == 4  # a run folder
    unset = RunConfig.model_validate({"proposer": {"question_frames": 6}})
    assert unset.solver.settings == {"num_frames": 6}
    assert "question_frames" not in unset.proposer.model_dump()
    with pytest.raises(UserError, match=r"question_frames \(2\) was removed.*num_frames \(4\)"):
        load_config(overrides=["proposer.question_frames=2"])  # cpu-tiny's solver: 4 frames


def test_proposer_kind_comes_from_the_registry() -> None:
    with pytest.raises(UserError, match=r"proposer\.kind.*'templates'.*llm, programmatic"):
        load_config(overrides=["proposer.kind=templates"])
    with pytest.raises(UserError, match=r"proposer\.model is read by proposer\.kind=llm only"):
        load_config(overrides=["proposer.model=openai:gpt-4o"])


def test_settings_reach_the_proposer_and_the_verifier() -> None:
    from graphs.runtime import check_settings, proposer_settings, verifier_settings

    cfg = load_config(
        overrides=[
            "sandbox.timeout_s=3",
            "sandbox.memory_mb=256",
            "proposer.settings.scene_attempts=2",
            "proposer.settings.ambiguity.rel_distance_margin_m=0.3",
        ]
    )
    limits = verifier_settings(cfg).limits
    assert (limits.timeout_s, limits.memory_mb) == (3, 256)
    proposer = proposer_settings(cfg)
    assert (proposer.scene_attempts, proposer.ambiguity.rel_distance_margin_m) == (2, 0.3)
    assert proposer.num_solver_frames == cfg.solver.settings["num_frames"]
    llm = load_config(
        overrides=[
            "proposer.kind=llm",
            "proposer.model=openai:unused",
            "sandbox.timeout_s=3",
            "proposer.settings.recheck=true",
            "proposer.settings.limits.max_tool_calls=5",
        ]
    )
    config = proposer_settings(llm)
    assert (config.recheck, config.limits.max_tool_calls, config.model) == (
        True,
        5,
        "openai:unused",
    )
    assert config.tool_settings.program_timeout_s == 3
    for override, message in [
        ("proposer.settings.scene_atempts=2", r"proposer\.settings'.*scene_atempts.*known"),
        ("proposer.settings.num_solver_frames=2", r"solver\.settings\.num_frames instead"),
        ("proposer.settings.ambiguity.nope=1", r"proposer\.settings\.ambiguity'"),
        ("verifier.settings.limits.timeout_s=1", r"set sandbox\.timeout_s instead"),
    ]:
        with pytest.raises(UserError, match=message):
            check_settings(load_config(overrides=[override]))
