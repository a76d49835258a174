"""Recipes: the registry the loop reads, the hybrid cold start's data, and the `actial`
recipe end to end on the tiny solver (viewpoint SFT, then GRPO from its weights)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoProcessor

from agents.records import Sample
from common.errors import UserError
from scenes.schema import Scene
from training.coldstart import (
    ColdStartConfig,
    build_viewpoint_samples,
    choose_reasoning,
    coldstart_scenes,
    reasoning_reply,
)
from training.hybrid import HybridCollator, build_hybrid_dataset
from training.recipes import (
    RECIPES,
    ActialRecipe,
    RecipeContext,
    SingleMethodRecipe,
    TwoStageRecipe,
    build_recipe,
)

SMALL = {"num_scenes": 3, "orbit_pairs": 2, "frames": 4, "width": 64, "height": 48}


@pytest.fixture(scope="module")
def coldstart_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = ColdStartConfig(**SMALL, questions_per_arm=2)
    return coldstart_scenes(tmp_path_factory.mktemp("coldstart") / "scenes", config)


@pytest.fixture(scope="module")
def viewpoint_samples(coldstart_root: Path) -> list[Sample]:
    return build_viewpoint_samples(coldstart_root, ColdStartConfig(**SMALL, questions_per_arm=2))


def test_registry_builds_each_recipe_from_the_loop_context(tiny_dir: Path) -> None:
    context = RecipeContext(model=str(tiny_dir), method="grpo", tiny=True)
    assert isinstance(build_recipe("single", context), SingleMethodRecipe)
    assert build_recipe("single", context).settings.method == "grpo"
    staged = RecipeContext(model=str(tiny_dir), tiny=True)  # they fix their stages' methods
    assert isinstance(build_recipe("two_stage", staged), TwoStageRecipe)
    with pytest.raises(
        UserError, match=r"training\.method=grpo is read by training\.recipe=single"
    ):
        build_recipe("two_stage", context)
    actial = build_recipe("actial", staged)
    assert isinstance(actial, ActialRecipe) and set(RECIPES) >= {"single", "two_stage", "actial"}
    assert actial.grpo.rewards == ["actial"] and actial.grpo.answer_format == "tags"
    assert actial.grpo.trainer_args == {"epsilon": 0.2}
    with pytest.raises(UserError, match=r"unknown training\.recipe 'nope'; known: single"):
        build_recipe("nope", context)


def test_the_full_size_preset_is_actials() -> None:
    recipe = build_recipe("actial", RecipeContext(model="m"))
    assert (recipe.coldstart.learning_rate, recipe.coldstart.global_batch_size) == (5e-6, 128)
    assert recipe.data.epochs == 2 and recipe.data.reasoning_fraction == 0.1
    grpo = recipe.grpo
    assert (grpo.learning_rate, grpo.num_generations, grpo.beta) == (1e-6, 16, 0.01)
    assert grpo.steps_per_iteration == 150
    assert recipe.data.steps(1000, 128) == 16  # two epochs of 1000 samples


def test_recipe_settings_reach_their_stage(tiny_dir: Path) -> None:
    context = RecipeContext(
        model=str(tiny_dir),
        tiny=True,
        settings={"frame_size": 48},
        recipe_settings={"grpo": {"max_completion_length": 24}, "data": {"num_scenes": 2}},
    )
    recipe = build_recipe("actial", context)
    assert recipe.grpo.max_completion_length == 24 and recipe.data.num_scenes == 2
    assert recipe.coldstart.frame_size == recipe.grpo.frame_size == 48
    with pytest.raises(UserError, match="unknown setting"):
        build_recipe("actial", RecipeContext(model="m", settings={"learnig_rate": 1.0}))
    with pytest.raises(UserError, match="cold-start seed"):
        build_recipe(
            "actial", RecipeContext(model="m", recipe_settings={"data": {"seed": 999_999}})
        )


def test_coldstart_data_is_viewpoint_questions_on_orbit_views(
    coldstart_root: Path, viewpoint_samples: list[Sample]
) -> None:
    assert len(viewpoint_samples) >= 10
    types = {s.proposal.question_type for s in viewpoint_samples}
    assert types <= {
        "viewpoint_camera_translation",
        "viewpoint_object_translation",
        "viewpoint_camera_rotation",
    }
    scenes = {s.id: s for s in (Scene.load(p) for p in coldstart_root.iterdir())}
    for sample in viewpoint_samples:
        orbit = {f.index for f in scenes[sample.proposal.scene_id].orbit_frames}
        assert set(sample.proposal.frame_indices or []) <= orbit


def test_reasoning_states_the_geometry_and_ends_in_the_answer(
    coldstart_root: Path, viewpoint_samples: list[Sample]
) -> None:
    sample = viewpoint_samples[0]
    scene = Scene.load(coldstart_root / sample.proposal.scene_id)
    reply = reasoning_reply(sample, scene)
    match = re.fullmatch(r"<think>(.*)</think><answer>([A-D])</answer>", reply, flags=re.S)
    assert match and match.group(2) == sample.ground_truth
    answer = next(
        o.partition(". ")[2] for o in sample.proposal.options if o[0] == sample.ground_truth
    )
    assert answer in match.group(1) and " m to its " in match.group(1)


def test_the_mix_is_the_configured_share() -> None:
    ids = [f"s{i}" for i in range(50)]
    assert len(choose_reasoning(ids, 0.1, seed=0)) == 5
    assert choose_reasoning(ids, 0.1, seed=0) == choose_reasoning(list(reversed(ids)), 0.1, 0)
    assert len(choose_reasoning(ids[:3], 0.1, seed=0)) == 1  # at least one when asked
    assert choose_reasoning(ids, 0.0, seed=0) == set()


def test_hybrid_batches_train_letters_or_the_whole_reasoning(
    tiny_dir: Path, coldstart_root: Path, viewpoint_samples: list[Sample]
) -> None:
    dataset = build_hybrid_dataset(viewpoint_samples[:6], coldstart_root, 48, 0.34, seed=1)
    rows = [dataset[i] for i in range(len(dataset))]
    reasoning = [r for r in rows if r["reasoning"]]
    assert len(reasoning) == 2
    assert "<answer>" in reasoning[0]["messages"][0]["content"][-1]["text"]  # tags prompt
    processor = AutoProcessor.from_pretrained(tiny_dir)
    batch = HybridCollator(processor, 48)(rows)
    trained = (batch["labels"] != -100).sum(dim=1).tolist()
    tokenizer = processor.tokenizer
    for row, count, labels in zip(rows, trained, batch["labels"], strict=True):
        text = tokenizer.decode(labels[labels != -100])
        if row["reasoning"]:
            assert text.startswith("<think>") and f"<answer>{row['ground_truth']}</answer>" in text
        else:
            assert text.startswith(row["ground_truth"]) and count <= 2  # letter (+ end of turn)


@pytest.mark.slow
def test_actial_recipe_runs_end_to_end_on_the_tiny_solver(
    tiny_dir: Path, samples: list[Sample], scene_root: Path, tmp_path: Path
) -> None:
    """Stage 1 on its own data (orbit-view questions), stage 2 on the loop's samples."""
    context = RecipeContext(
        model=str(tiny_dir),
        tiny=True,
        settings={"frame_size": 64, "num_frames": 4},
        recipe_settings={"data": {**SMALL, "questions_per_arm": 1, "epochs": 1}},
    )
    recipe = build_recipe("actial", context)
    first = recipe.train_iteration(samples, scene_root, 0, tmp_path)
    cold = ActialRecipe.cold_start(recipe, tmp_path)  # stored: not trained again
    assert cold.stage == "coldstart" and cold.num_samples >= 10
    assert (tmp_path / "coldstart" / "samples.parquet").is_file()
    assert first.stage == "grpo" and first.start_step == 0 and first.global_step == 2
    assert first.num_samples == 4  # the loop's accepted samples, not the viewpoint ones

    def weights(folder: Path) -> dict[str, torch.Tensor]:
        return load_file(str(folder / "model.safetensors"))

    start, after_cold = weights(tiny_dir), weights(cold.checkpoint_dir)
    assert max((start[k] - after_cold[k]).abs().max().item() for k in start) > 1e-5
    second = recipe.train_iteration(samples, scene_root, 1, tmp_path)
    assert (second.start_step, second.global_step) == (2, 4)  # GRPO state carried over
