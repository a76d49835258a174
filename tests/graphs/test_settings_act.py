"""Settings that would be silently ignored are refused before a run starts, naming the key."""

from __future__ import annotations

import pytest

from common.errors import UserError
from graphs.config import RunConfig, load_config
from graphs.runtime import check_settings
from training.recipes import RECIPES, RecipeContext, build_recipe


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["training.recipe=two_stage", "training.recipe_settings.sft_iteration=2"],
            r"two_stage does not read sft_iteration; it reads .*sft_iterations",
        ),
        (
            ["training.recipe_settings.grpo.beta=0.1"],  # single with method=sft reads `sft`
            r"single does not read grpo; it reads sft \(",
        ),
        (
            ["training.recipe=two_stage", "training.method=grpo"],
            r"training.method=grpo is read by training.recipe=single only",
        ),
        (
            ["evaluation.enabled=false", "evaluation.settings.size=12"],
            r"evaluation.enabled is false, so size would be ignored",
        ),
    ],
)
def test_ignored_settings_are_user_errors(overrides: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_settings(load_config(overrides=overrides))


def test_a_saved_run_with_evaluation_off_and_the_presets_sizes_still_loads() -> None:
    """Run folders saved before the check kept the preset's evaluation.settings."""
    saved = load_config().model_dump(mode="json")
    saved["evaluation"]["enabled"] = False
    assert saved["evaluation"]["settings"], "the preset sets held-out sizes"
    check_settings(RunConfig.model_validate(saved))


def test_settings_each_recipe_reads_are_accepted() -> None:
    check_settings(
        load_config(overrides=["training.method=grpo", "training.recipe_settings.grpo.beta=0.1"])
    )
    check_settings(
        load_config(
            overrides=["training.recipe=two_stage", "training.recipe_settings.sft_iterations=2"]
        )
    )
    off = load_config(overrides=["evaluation.enabled=false"])  # the preset's sizes are dropped
    assert off.evaluation.settings == {}
    check_settings(off)


def test_every_recipe_lists_what_it_reads_and_refuses_the_rest() -> None:
    for name, recipe in RECIPES.items():
        assert recipe.SETTINGS and isinstance(recipe.USES_METHOD, bool), name
        with pytest.raises(UserError, match=f"{name} does not read not_a_setting"):
            build_recipe(name, RecipeContext(model="m", recipe_settings={"not_a_setting": 1}))


def test_actials_stage_one_reads_recipe_settings_coldstart() -> None:
    context = RecipeContext(model="m", recipe_settings={"coldstart": {"learning_rate": 3e-5}})
    assert build_recipe("actial", context).coldstart.learning_rate == 3e-5
