"""`ouroboros propose` end to end on the demo room: proposals, sandbox, samples, report."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from agents.curriculum import ArmStats, DifficultyFeedback
from agents.sample_io import read_samples
from agents.tasks.demo_scene import demo_scene
from graphs.cli import main


@pytest.fixture(scope="module")
def scenes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenes")
    demo_scene().save(root / "demo-room")
    return root


def test_propose_writes_samples_and_prints_the_report(
    scenes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "samples.parquet"
    code = main(
        [
            "propose",
            "--scenes",
            str(scenes_dir),
            "--out",
            str(out),
            "--num",
            "60",
            "--seed",
            "4",
            "--workers",
            "2",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    samples = read_samples(out)
    assert 40 <= len(samples) <= 60
    assert {s.proposal.scene_id for s in samples} == {"demo-room"}
    assert all(s.verdict in ("accepted", "rejected") for s in samples)  # verified
    assert all(s.ground_truth for s in samples if s.verdict == "accepted")
    assert sum(s.verdict == "accepted" for s in samples) >= 30
    assert "removed per check" in printed and out.with_suffix(".verification.json").exists()
    rows = datasets.load_dataset("parquet", data_files=str(out))["train"]
    for column in (
        "question_type",
        "question",
        "options",
        "ground_truth",
        "program",
        "difficulty",
        "scene_id",
        "frame_indices",
    ):
        assert column in rows.column_names
    assert "proposals per task" in printed and "total" in printed
    assert f"wrote {len(samples)} samples" in printed


def test_tasks_feedback_and_uniform_policy(
    scenes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feedback = DifficultyFeedback(
        arms=[
            ArmStats(
                question_type="object_counting",
                level=1,
                count=40,
                mean_confidence=0.99,
                mean_learnability=0.01,
                easy=1.0,
                frontier=0.0,
                hard=0.0,
            )
        ]
    )
    feedback_path = tmp_path / "feedback.json"
    feedback_path.write_text(feedback.model_dump_json())
    out = tmp_path / "two.parquet"
    args = ["propose", "--scenes", str(scenes_dir), "--out", str(out), "--num", "10"]
    args += ["--tasks", "object_counting,route_planning", "--feedback", str(feedback_path)]
    assert main([*args, "--policy", "uniform", "--workers", "1"]) == 0
    types = {s.proposal.question_type for s in read_samples(out)}
    assert types == {"object_counting", "route_planning"}
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--proposer", "llm", "--model", "nosuchprovider:m"], "not a model spec"),
        (["--model", "openai:gpt-4o"], "apply to --proposer llm only"),
        (["--proposer", "oracle"], "unknown proposer"),
        (["--tasks", "object_countin"], "unknown task type"),
        (["--policy", "greedy"], "unknown curriculum policy"),
        (["--out", "samples.csv"], "Parquet"),
    ],
)
def test_user_mistakes_get_one_clear_line(
    scenes_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    args = [
        "propose",
        "--scenes",
        str(scenes_dir),
        "--out",
        str(tmp_path / "s.parquet"),
        "--num",
        "2",
    ]
    assert main(args + extra) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_missing_scenes_and_bad_feedback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "s.parquet")
    assert main(["propose", "--scenes", str(tmp_path), "--out", out]) == 2
    assert "scenes generate" in " ".join(capsys.readouterr().err.split())
    bad = tmp_path / "feedback.json"
    bad.write_text(json.dumps({"arms": "nope"}))
    demo_scene().save(tmp_path / "scenes" / "demo-room")
    args = ["propose", "--scenes", str(tmp_path / "scenes"), "--out", out, "--feedback", str(bad)]
    assert main(args) == 2
    error = " ".join(capsys.readouterr().err.split())
    assert "not difficulty feedback JSON (field 'arms'" in error
    assert not Path(out).exists()


def test_repeated_settings_merge_like_config_overrides() -> None:
    """`--setting` pairs nest and merge as `proposer.settings` overrides do, at any depth."""
    from graphs.commands.propose import _proposer_settings

    pairs = ["limits.max_tool_calls=12", "limits.max_errors=3", "a.b.c=1", "a.b.d=2"]
    assert _proposer_settings(pairs, {"recheck": True}) == {
        "recheck": True,
        "limits": {"max_tool_calls": 12, "max_errors": 3},
        "a": {"b": {"c": 1, "d": 2}},
    }
