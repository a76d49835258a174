"""`ouroboros eval` end to end: build ProcSpatial, evaluate the tiny solver on it and on a
VSI-Bench-format folder, compare two results, and the one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from agents.solver.tiny import build_tiny_solver
from evaluation.report import load_report
from graphs.cli import main

TINY = ["--frame-size", "64", "--max-new-tokens", "3", "--device", "cpu"]


@pytest.fixture(scope="module")
def procspatial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "procspatial"
    code = main(
        [
            "eval", "build-procspatial", "--out", str(out), "--size", "20", "--num-scenes", "4",
            "--frames", "16", "--width", "64", "--height", "48", "--question-frames", "8",
            "--workers", "2",
        ]
    )  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tiny_solver(tmp_path_factory.mktemp("tiny") / "tiny-solver"))


@pytest.fixture(scope="module")
def vsibench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rows as JSON Lines plus one 12-frame mp4 at {dataset}/{scene_name}.mp4."""
    root = tmp_path_factory.mktemp("vsibench")
    (root / "scannet").mkdir()
    with av.open(str(root / "scannet" / "scene0001_00.mp4"), mode="w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(12):
            pixels = np.full((48, 64, 3), 20 * index, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
    base = {"dataset": "scannet", "scene_name": "scene0001_00", "question": "How many chairs?"}
    rows = [
        {**base, "id": 1, "question_type": "object_counting", "ground_truth": "4", "options": None},
        {
            **base,
            "id": 2,
            "question_type": "object_rel_direction_easy",
            "ground_truth": "B",
            "options": ["A. left", "B. right"],
        },
        {
            **base,
            "id": 3,
            "question_type": "route_planning",
            "ground_truth": "A",
            "options": ["A. x", "B. y"],
        },
    ]
    (root / "test.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return root


def test_eval_on_procspatial_writes_results_and_chart(
    procspatial_dir: Path, tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.loads((procspatial_dir / "manifest.json").read_text())
    assert manifest["num_rows"] + sum(manifest["shortfall"].values()) == 20
    assert manifest["seed_base"] == 1_000_000 and manifest["num_scenes"] == 4
    out = tmp_path / "run"
    args = ["eval", "--model", tiny_model, "--data", str(procspatial_dir), "--limit", "6"]
    code = main([*args, "--out", str(out), *TINY])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = load_report(out / "results.json")
    assert report.benchmark.name == "procspatial" and report.benchmark.version == "2"
    assert report.benchmark.fingerprint == manifest["fingerprint"]
    assert report.settings["frames"] == 8 and report.settings["limit"] == 6
    assert len(report.predictions) == 6
    assert (out / "scores.png").stat().st_size > 10_000
    assert "overall (all tasks)" in printed and "wrote" in printed


def test_eval_on_vsibench_then_compare(
    vsibench_dir: Path, tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["eval", "--model", tiny_model, "--bench", "vsibench", "--data", str(vsibench_dir)]
    assert main([*args, "--frames", "4", "--out", str(out), *TINY]) == 0
    report = load_report(out)
    assert report.benchmark.name == "vsibench" and report.settings["frames"] == 4
    assert [p.id for p in report.predictions] == [1, 2, 3]
    better = report.model_copy(
        update={
            "model": "other/model",
            "result": report.result.model_copy(
                update={"overall": (report.result.overall or 0) + 0.25}
            ),
        }
    )
    (tmp_path / "b.json").write_text(better.model_dump_json())
    capsys.readouterr()
    code = main(
        [
            "eval",
            "--compare",
            str(out / "results.json"),
            str(tmp_path / "b.json"),
            "--out",
            str(tmp_path),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    overall = next(line for line in printed.splitlines() if "overall (VSI-Bench)" in line)
    assert overall.split()[-1] == "+25.0"
    assert (tmp_path / "compare.png").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "m"], "needs --model and --data"),
        (["--model", "m", "--data", "DATA", "--bench", "nope"], "unknown --bench 'nope'"),
        (["--model", "m", "--data", "MISSING"], "build-procspatial"),
        (["--model", "m", "--data", "DATA", "--frames", "9"], "built with 8 frames"),
        (["--model", "MISSING", "--data", "DATA"], "--model"),
        (["--compare", "MISSING", "MISSING"], "no such results file"),
        (["--model", "m", "--data", "DATA", "--protocol", "nope"], "unknown --protocol 'nope'"),
        (["--model", "m", "--data", "DATA", "--protocol", "paper"], "--frame-size applies to"),
    ],
)
def test_mistakes_get_one_line_errors(
    arguments: list[str],
    message: str,
    procspatial_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    replace = {"DATA": str(procspatial_dir), "MISSING": str(tmp_path / "missing")}
    code = main(["eval", *[replace.get(a, a) for a in arguments], *TINY])
    err = capsys.readouterr().err
    assert code == 2
    assert message in " ".join(err.split()) and "Traceback" not in err


@pytest.mark.slow
def test_eval_on_a_loop_checkpoint_reproduces_the_loop_score_by_default(
    procspatial_dir: Path, tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Training saves its frame settings beside the checkpoint; `ouroboros eval` with no
    frame options reads them and scores exactly what the loop's held-out step scored."""
    import shutil

    import torch

    from agents.records import Proposal, Sample
    from graphs.config import load_config
    from graphs.nodes import _evaluate
    from graphs.runtime import LoopRuntime
    from graphs.store import RunStore
    from scenes.noise import write_noise_scene
    from training.config import SFTSettings
    from training.iterations import SolverTrainer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        write_noise_scene(tmp_path / "scenes" / "room", "room", num_frames=6, width=64, height=48)
        proposal = Proposal(
            scene_id="room",
            question_type="object_counting",
            question="How many chair(s) are in this room?",
            options=[],
            answer_kind="numeric",
            program="def solve(scene):\n    return 0\n",
        )
        sample = Sample.from_proposal(proposal).model_copy(
            update={"ground_truth": "3", "verdict": "accepted"}
        )
        settings = SFTSettings.tiny(model=tiny_model, steps_per_iteration=1)
        trained = SolverTrainer(settings, tmp_path / "run" / "training").train_iteration(
            [sample], tmp_path / "scenes", 0
        )
        checkpoint = str(trained.model_dir)
        assert (trained.model_dir / "frame_settings.json").is_file()

        cfg = load_config(
            overrides=[
                f"solver.settings.num_frames={settings.num_frames}",
                f"solver.settings.frame_size={settings.frame_size}",
            ]
        )
        store = RunStore(tmp_path / "run")
        shutil.copytree(procspatial_dir, store.eval_dir)
        runtime = LoopRuntime(config=cfg, store=store, quiet=True)
        try:
            loop_score = _evaluate(runtime, checkpoint, tmp_path / "loop-eval.json")
        finally:
            runtime.close()
        assert loop_score is not None

        out = tmp_path / "standalone"
        args = ["eval", "--model", checkpoint, "--data", str(store.eval_dir), "--out", str(out)]
        assert main([*args, "--device", "cpu"]) == 0
        # what the old default (448 px squares) showed the same checkpoint
        other = tmp_path / "other"
        wide = ["eval", "--model", checkpoint, "--data", str(store.eval_dir), "--out", str(other)]
        assert main([*wide, "--device", "cpu", "--frame-size", "448"]) == 0
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    assert "protocol project" in printed and "saved with the checkpoint" in printed
    report = load_report(out / "results.json")
    assert report.settings["frame_size"] == settings.frame_size == 64
    assert report.settings["protocol"] == "project"
    assert report.result.overall_with_extra == loop_score.overall
    assert report.result.overall == loop_score.vsibench_overall
    loop_report = load_report(tmp_path / "loop-eval.json")
    assert [p.reply for p in report.predictions] == [p.reply for p in loop_report.predictions]
    wider = load_report(other / "results.json")
    assert [p.reply for p in wider.predictions] != [p.reply for p in report.predictions]


@pytest.mark.slow
def test_vsibench_defaults_to_the_paper_protocol(
    vsibench_dir: Path, tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model without saved frame settings: 32 frames (all 12 of the short video) as one
    video, aspect ratio kept; lmms-eval's protocol differs only in the number parse."""
    base = ["eval", "--model", tiny_model, "--bench", "vsibench", "--data", str(vsibench_dir)]
    fast = ["--max-new-tokens", "3", "--device", "cpu"]
    assert main([*base, "--out", str(tmp_path / "paper"), *fast]) == 0
    assert "protocol paper: 32 frames as a video" in capsys.readouterr().out
    paper = load_report(tmp_path / "paper" / "results.json")
    assert paper.settings["protocol"] == "paper" and paper.settings["frames"] == 32
    assert paper.settings["frame_input"] == "video" and paper.settings["frame_size"] is None
    assert paper.settings["number_parse"] == "first_token"
    lmms_out = tmp_path / "lmms"
    assert main([*base, "--protocol", "lmms-eval", "--out", str(lmms_out), *fast]) == 0
    lmms = load_report(lmms_out / "results.json")
    assert lmms.settings["number_parse"] == "first_number"
    assert [p.reply for p in lmms.predictions] == [p.reply for p in paper.predictions]


def test_build_viewpoint_then_evaluate_it(
    tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The viewpoint benchmark is built from the CLI (reserved seeds, orbit pairs only) and
    evaluated like ProcSpatial."""
    bench = tmp_path / "viewpoint"
    code = main(
        [
            "eval", "build-viewpoint", "--out", str(bench), "--size", "6", "--num-scenes", "1",
            "--orbit-pairs", "2", "--width", "64", "--height", "48", "--workers", "1",
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    manifest = json.loads((bench / "manifest.json").read_text())
    assert manifest["name"] == "viewpoint" and manifest["num_rows"] >= 1
    assert set(manifest["question_types"]) <= {
        "viewpoint_camera_translation",
        "viewpoint_object_translation",
        "viewpoint_camera_rotation",
    }
    assert "built the viewpoint benchmark" in printed
    out = tmp_path / "scores"
    code = main(["eval", "--model", tiny_model, "--data", str(bench), "--out", str(out), *TINY])
    assert code == 0, capsys.readouterr().out
    assert len(load_report(out / "results.json").predictions) == manifest["num_rows"]
    assert main(["eval", "build-viewpoint", "--out", str(bench)]) == 2  # exists: one-line error


def test_build_procspatial_refuses_an_unknown_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench"
    code = main(["eval", "build-procspatial", "--out", str(out), "--version", "9"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "Traceback" not in err
    assert "builds ProcSpatial version 2, not '9'" in err and not out.exists()
