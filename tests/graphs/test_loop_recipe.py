"""`training.recipe` in the loop: names and settings checked before any work, and the
`actial` recipe running inside a real (tiny) loop: cold start on its own data, then GRPO."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from common.errors import UserError
from graphs.build import build_graph, open_checkpointer, run_config
from graphs.config import load_config
from graphs.runtime import LoopRuntime, check_settings
from graphs.store import RunStore
from scenes.schema import Scene

_spec = importlib.util.spec_from_file_location(
    "loop_settings", Path(__file__).with_name("loop_settings.py")
)
loop_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loop_settings)
TINY_LOOP = loop_settings.TINY_LOOP

ACTIAL_LOOP = [
    *loop_settings.TINY_LOOP_NO_EVALUATION,
    "loop.iterations=1",
    "verifier.blind_check=false",
    "proposer.per_iteration=12",
    "scenes.orbit_pairs=1",
    "training.recipe=actial",
    "training.recipe_settings.data.num_scenes=2",
    "training.recipe_settings.data.frames=4",
    "training.recipe_settings.data.width=64",
    "training.recipe_settings.data.height=48",
    "training.recipe_settings.data.questions_per_arm=1",
    "training.recipe_settings.data.epochs=1",
]


def test_recipe_mistakes_are_reported_before_any_work() -> None:
    with pytest.raises(UserError, match=r"unknown training\.recipe 'sft_then_rl'"):
        check_settings(load_config(overrides=["training.recipe=sft_then_rl"]))
    with pytest.raises(UserError, match="launcher=inprocess"):
        check_settings(
            load_config(overrides=["training.recipe=actial", "training.launcher=accelerate"])
        )
    with pytest.raises(UserError, match="cold-start seed"):
        check_settings(
            load_config(
                overrides=["training.recipe=actial", "training.recipe_settings.data.seed=999990"]
            )
        )
    check_settings(load_config(overrides=ACTIAL_LOOP))


@pytest.mark.slow
def test_the_loop_trains_with_the_actial_recipe(tmp_path: Path) -> None:
    cfg = load_config(overrides=ACTIAL_LOOP)
    store = RunStore(tmp_path / "run")
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            state = graph.invoke({}, run_config(cfg))
    finally:
        runtime.close()
    assert any(Scene.load(d).orbit_frames for d in store.scenes_dir.iterdir())
    cold = store.training_dir / "coldstart"
    assert (cold / "samples.parquet").is_file() and (cold / "iteration-000").is_dir()
    train = store.read_json(store.train_result_path(0))
    assert train["global_step"] == 2  # the loop's own GRPO steps
    assert "/grpo/" in state["solver_checkpoint"]


VILASR_LOOP = [
    *TINY_LOOP,
    "loop.iterations=1",
    "verifier.blind_check=false",
    "proposer.per_iteration=12",
    "evaluation.settings.size=6",
    "training.recipe=vilasr",
    "solver.settings.backend=vilasr",
]


@pytest.mark.slow
def test_the_loop_trains_with_the_vilasr_recipe_and_the_report_shows_transcripts(
    tmp_path: Path,
) -> None:
    """`training.recipe=vilasr` with the drawing solver: cold start, RRS and tool GRPO run
    inside the loop, held-out evaluation saves transcripts, and the report's gallery shows them."""
    from graphs.report import build_report

    cfg = load_config(overrides=VILASR_LOOP)
    check_settings(cfg)
    store = RunStore(tmp_path / "run")
    runtime = LoopRuntime(config=cfg, store=store, quiet=True)
    try:
        with open_checkpointer(store) as saver:
            graph = build_graph(cfg, checkpointer=saver, runtime=runtime)
            graph.invoke({}, run_config(cfg))
    finally:
        runtime.close()
    assert store.read_json(store.train_result_path(0))["global_step"] >= 1
    saved = list(store.transcripts_dir(store.eval_result_path(0)).glob("*/transcript.json"))
    assert saved, "the held-out evaluation saved no transcript"
    page = build_report(store.root, tmp_path / "report.html").read_text()
    assert "Drawing transcripts" in page and "data:image/png;base64," in page


def test_signals_that_read_the_model_directly_refuse_other_backends() -> None:
    for signal in ("expected_score", "solve_rate", "learning_progress"):
        with pytest.raises(UserError, match="backend=vilasr does not give"):
            check_settings(load_config(overrides=[*VILASR_LOOP, f"loop.signal={signal}"]))
    check_settings(load_config(overrides=[*VILASR_LOOP, "loop.signal=token_confidence"]))
