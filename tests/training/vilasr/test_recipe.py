"""The vilasr recipe's construction from the loop's context and its stage schedule."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import UserError
from training.vilasr.recipe import VilasrRecipe


def context(**recipe_settings: object) -> SimpleNamespace:
    return SimpleNamespace(
        model="tiny-dir",
        tiny=True,
        settings={"frame_size": 32, "num_frames": 4, "learning_rate": 9.0},
        recipe_settings=recipe_settings,
    )


def test_tiny_context_gives_cpu_sizes_and_the_solvers_frames() -> None:
    recipe = VilasrRecipe.from_config(
        context(grpo={"num_generations": 4}, rrs_iterations=2, coordinates="norm1000")
    )
    assert recipe.model == "tiny-dir"
    assert recipe.cold_start.frame_size == recipe.grpo.frame_size == recipe.rrs.frame_size == 32
    assert recipe.cold_start.num_frames == recipe.grpo.num_frames == 4
    assert recipe.grpo.num_generations == 4 and recipe.grpo.max_turns == 4  # given > preset
    assert recipe.cold_start.coordinates == recipe.rrs.coordinates == recipe.grpo.coordinates
    assert recipe.grpo.coordinates == "norm1000"
    assert recipe.grpo.beta == 0.0 and recipe.rrs.numeric_threshold == 0.7
    assert [recipe.stage_of(i) for i in range(5)] == [
        "vilasr_cold_start",
        "vilasr_rrs",
        "vilasr_rrs",
        "vilasr_grpo",
        "vilasr_grpo",
    ]


def test_full_size_context_keeps_vilasrs_defaults() -> None:
    full = SimpleNamespace(
        model="Qwen/Qwen3-VL-4B-Instruct", tiny=False, settings={}, recipe_settings={}
    )
    recipe = VilasrRecipe.from_config(full)
    grpo = recipe.grpo
    assert (grpo.num_generations, grpo.learning_rate, grpo.beta) == (8, 1e-6, 0.0)
    assert (grpo.max_turns, grpo.max_images) == (10, 42)
    assert recipe.cold_start_sft.freeze_projector and recipe.cold_start.min_rounds == 3


@pytest.mark.parametrize(
    ("settings", "where"),
    [
        ({"grpo": {"num_generation": 8}}, "recipe_settings.grpo"),
        ({"rrs": {"numeric_threshold": 2.0}}, "recipe_settings.rrs"),
        ({"cold_start_iterations": 0}, "recipe_settings"),
        ({"stages": 3}, "recipe_settings"),
    ],
)
def test_bad_settings_name_the_place(settings: dict, where: str) -> None:
    with pytest.raises(UserError, match=where):
        VilasrRecipe.from_config(context(**settings))
