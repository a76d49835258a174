"""Perception pretraining: reserved seeds, dense targets in the processor's order, training."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from agents.solver.tiny import build_processor, build_tiny_solver, build_tokenizer
from agents.solver.weights import SEEING_TINY_DIR, write_starting_solver
from common.errors import UserError
from evaluation.held_out import HELD_OUT_SEED_START
from evaluation.procspatial_build import ProcSpatialConfig
from graphs.config import list_presets, load_config
from scenes.procedural import write_scene
from scenes.schema import Scene
from training.perception.build import RECORD_NAME, build_seeing_solver, seeing_sizes
from training.perception.labels import _processor_order, frame_presence, frame_targets
from training.perception.pretrain import PerceptionConfig
from training.perception.seeds import check_perception_seeds, perception_seed_range
from training.warmup import CATEGORIES, WarmupConfig, _View


def _overlaps(first: int, count: int) -> bool:
    reserved = perception_seed_range()
    return first < reserved.stop and reserved.start < first + count


def test_reserved_range_is_apart_from_loop_warmup_and_held_out() -> None:
    reserved = perception_seed_range()
    assert reserved.stop <= HELD_OUT_SEED_START  # below every held-out benchmark
    for preset in list_presets():
        scenes = load_config(preset).scenes
        assert not _overlaps(scenes.seed, scenes.num), preset
    warmup = WarmupConfig()
    assert not _overlaps(warmup.seed, warmup.num_scenes + warmup.check_scenes)
    held_out = ProcSpatialConfig()
    assert not _overlaps(held_out.seed_base, held_out.scenes_needed())
    default = PerceptionConfig()
    check_perception_seeds(default.seed, default.num_scenes + default.check_scenes)


@pytest.mark.parametrize(("first", "count"), [(0, 4), (500_000, 8), (949_998, 4), (1_000_000, 1)])
def test_seeds_outside_the_range_are_refused(first: int, count: int) -> None:
    with pytest.raises(UserError, match="reserved range"):
        check_perception_seeds(first, count)


def test_patch_targets_follow_the_processors_patch_order() -> None:
    """Paint each 8x8 patch with its row-major index; the processor's rows must come out in
    the order `_processor_order` gives."""
    processor = build_processor(build_tokenizer(), frame_size=64)
    grid = 64 // 8
    index = np.arange(grid * grid).reshape(grid, grid)
    painted = np.kron(index, np.ones((8, 8))).astype(np.uint8) * 4
    image = Image.fromarray(np.stack([painted] * 3, axis=-1))
    pixels = processor.image_processor(images=[image], return_tensors="pt")["pixel_values"]
    decoded = np.rint((pixels[:, 0].numpy() * 0.5 + 0.5) * 255 / 4).astype(int)
    assert decoded.tolist() == _processor_order(index.reshape(-1), grid, 2).tolist()


def test_token_shares_add_up_to_the_renderers_pixel_counts(tmp_path: Path) -> None:
    """At the rendered size the shares are exact: summed over tokens they give Frame.visible."""
    scene = Scene.load(write_scene(900_000, tmp_path / "room", 4, 64, 64))
    for frame in scene.frames:
        targets = frame_targets(scene, tmp_path / "room", frame, CATEGORIES, 64, 8, 2)
        assert targets.token_categories.shape == (16, len(CATEGORIES) + 1)
        assert np.allclose(targets.token_categories.sum(1), 1.0)
        pixels = targets.token_categories.sum(0) * 16 * 16
        patch_pixels = targets.patch_categories.sum(0) * 8 * 8
        for position, category in enumerate(CATEGORIES, start=1):
            ids = {o.instance_id for o in scene.objects if o.category == category}
            expected = sum(n for i, n in frame.visible.items() if i in ids)
            assert round(pixels[position]) == expected
            assert round(patch_pixels[position]) == expected


def test_frame_presence_follows_the_warmups_rule(tmp_path: Path) -> None:
    """Presence targets say what the frames-showing programs count: seen, not seen, or (no
    target) too close to call, per category, from the renderer's pixel counts."""
    scene = Scene.load(write_scene(900_000, tmp_path / "room", 8, 160, 120))
    checked = {"seen": 0, "absent": 0, "unclear": 0}
    for frame in scene.frames:
        seen, known = frame_presence(scene, frame, CATEGORIES)
        view = _View(scene, [frame.index], 0.02)
        for position, category in enumerate(CATEGORIES):
            if view.seen_in(category):
                assert (seen[position], known[position]) == (1, 1), category
                checked["seen"] += 1
            elif view.unseen_in(category):
                assert (seen[position], known[position]) == (0, 1), category
                checked["absent"] += 1
            else:
                assert known[position] == 0, category
                checked["unclear"] += 1
    assert checked["seen"] > 0 and checked["absent"] > 0


def test_seeing_sizes_feed_the_last_block_to_the_language_model(tmp_path: Path) -> None:
    """The frame-presence tokens come from the tower's last block, added after the language
    model's first layer; the plain tiny solver keeps Qwen's first blocks."""
    config = PerceptionConfig(vision_width=40)
    build_tiny_solver(tmp_path / "seeing", sizes=seeing_sizes(config))
    build_tiny_solver(tmp_path / "plain")
    seeing = AutoModelForImageTextToText.from_pretrained(tmp_path / "seeing").config
    plain = AutoModelForImageTextToText.from_pretrained(tmp_path / "plain").config
    assert seeing.vision_config.deepstack_visual_indexes == [seeing.vision_config.depth - 1]
    assert seeing.vision_config.hidden_size == 40
    assert plain.vision_config.deepstack_visual_indexes == [0, 1]


def test_pretraining_learns_and_saves_a_loadable_solver(tmp_path: Path) -> None:
    config = PerceptionConfig(
        num_scenes=2,
        check_scenes=1,
        frames=4,
        width=64,
        height=48,
        steps=30,
        batch_frames=8,
        reading_steps=4,
        reading_questions_per_scene=8,
        reading_batch_size=4,
        reading_showing_turns=2,
    )
    record = build_seeing_solver(config, tmp_path / "solver", tmp_path / "work", quiet=True)
    assert record["last_loss"] < record["first_loss"]
    assert 0 <= record["check_after"]["presence_recall"] <= 1
    reading = record["reading"]
    assert reading["questions"] == sum(reading["forms"].values()) > 0
    forms = reading["forms"]
    assert forms["perception_frames_showing"] > forms["perception_seen_object"]
    assert reading["last_loss"] < reading["first_loss"]
    assert record["train_seeds"] == [900_000, 900_001]
    saved = json.loads((tmp_path / "solver" / RECORD_NAME).read_text())
    assert saved["config"]["steps"] == 30
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "solver")
    processor = AutoProcessor.from_pretrained(tmp_path / "solver")
    for name in CATEGORIES:
        if " " not in name:
            assert len(processor.tokenizer.tokenize(" " + name)) == 1, name
    random_dir = build_tiny_solver(  # the vision stage's starting point
        tmp_path / "random",
        seed=config.model_seed,
        vocab_size=config.vocab_size,
        extra_words=CATEGORIES,
        sizes=seeing_sizes(config),
    )
    random_model = AutoModelForImageTextToText.from_pretrained(random_dir)
    trained = model.model.visual.patch_embed.proj.weight
    assert not torch.allclose(trained, random_model.model.visual.patch_embed.proj.weight)


def test_pretraining_refuses_rooms_outside_the_range(tmp_path: Path) -> None:
    config = replace(PerceptionConfig(), seed=500_000)
    with pytest.raises(UserError, match="reserved range"):
        build_seeing_solver(config, tmp_path / "solver", tmp_path / "work", quiet=True)
    assert not (tmp_path / "solver").exists()


def test_the_shipped_seeing_solver_is_what_its_record_says(tmp_path: Path) -> None:
    record = json.loads((SEEING_TINY_DIR / RECORD_NAME).read_text())
    check_perception_seeds(record["train_seeds"][0], record["config"]["num_scenes"])
    copied = write_starting_solver("tiny-seeing", tmp_path / "start", seed=0)
    model = AutoModelForImageTextToText.from_pretrained(copied)
    assert model.config.model_type == "qwen3_vl"
    assert load_config("cpu-tiny").solver.model == "tiny-seeing"
