"""`ouroboros run`: the main job on a preset.

Until the full loop lands, the main job prepares the scene pool for a run (generate or
import) and writes a preview of each scene, so a newcomer sees what the loop reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from graphs.config import RunConfig, load_config
from scenes.schema import Scene, list_scene_dirs

console = Console()


def run(
    overrides: Annotated[
        list[str] | None, typer.Argument(help="key=value overrides, e.g. scenes.num=4")
    ] = None,
    preset: Annotated[str, typer.Option(help="Preset name (graphs/presets/*.yaml).")] = "cpu-tiny",
    config: Annotated[Path | None, typer.Option(help="YAML file merged over the preset.")] = None,
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path("runs/cpu-tiny"),
) -> None:
    """Run the main job on a preset."""
    cfg = load_config(preset, config, overrides)
    scenes_dir = out / "scenes"
    if not list_scene_dirs(scenes_dir):
        _prepare_scenes(cfg, scenes_dir)
    scene_dirs = list_scene_dirs(scenes_dir)
    from scenes.preview import render_preview

    table = Table(title=f"scene pool ({cfg.preset})")
    for column in ("scene", "source", "area m^2", "objects", "categories", "frames", "preview"):
        table.add_column(column)
    for scene_dir in scene_dirs:
        scene = Scene.load(scene_dir)
        preview = render_preview(scene_dir, out / "previews" / f"{scene.id}.png")
        table.add_row(
            scene.id,
            scene.source,
            f"{scene.room.area:.1f}",
            str(len(scene.objects)),
            str(len(scene.categories())),
            str(len(scene.frames)),
            str(preview),
        )
    console.print(table)


def _prepare_scenes(cfg: RunConfig, scenes_dir: Path) -> None:
    if cfg.scenes.source == "procedural":
        from scenes.procedural import generate_scenes

        generate_scenes(
            num=cfg.scenes.num,
            seed=cfg.scenes.seed,
            out=scenes_dir,
            frames=cfg.scenes.frames,
            width=cfg.scenes.width,
            height=cfg.scenes.height,
        )
    else:
        from scenes.loaders import import_scenes

        import_scenes(format=cfg.scenes.import_format, src=cfg.scenes.import_path, out=scenes_dir)
