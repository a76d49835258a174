"""`ouroboros scenes ...`: generate procedural scenes, import real ones, preview any."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Make, import and look at 3D scenes.", no_args_is_help=True)
console = Console()


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write scene folders into.")],
    num: Annotated[int, typer.Option(min=1, help="How many scenes.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the first scene; scene i uses seed + i.")] = 0,
    frames: Annotated[int, typer.Option(min=1, help="Frames per walkthrough.")] = 32,
    width: Annotated[int, typer.Option(min=16, help="Frame width in pixels.")] = 640,
    height: Annotated[int, typer.Option(min=16, help="Frame height in pixels.")] = 480,
) -> None:
    """Generate procedural rooms with rendered walkthrough frames."""
    from scenes.procedural import generate_scenes

    paths = generate_scenes(num=num, seed=seed, out=out, frames=frames, width=width, height=height)
    console.print(f"wrote {len(paths)} scene(s) under {out}")


@app.command("import")
def import_(
    src: Annotated[
        Path, typer.Argument(help="Source file or folder in the dataset's native format.")
    ],
    out: Annotated[Path, typer.Option(help="Folder to write scene folders into.")],
    format: Annotated[str, typer.Option("--format", help="vsibench-meta | scannet | arkitscenes")],
) -> None:
    """Import real scenes from a dataset's native files."""
    from scenes.loaders import import_scenes

    paths = import_scenes(format=format, src=src, out=out)
    console.print(f"imported {len(paths)} scene(s) into {out}")


@app.command("show")
def show(
    scene_dir: Annotated[Path, typer.Argument(help="A scene folder (holding scene.json).")],
    out: Annotated[Path, typer.Option(help="PNG to write.")] = Path("preview.png"),
) -> None:
    """Write a preview: a contact sheet of frames and a labelled top-down map."""
    from scenes.preview import render_preview

    path = render_preview(scene_dir, out)
    console.print(f"wrote {path}")
