"""Real-data loaders: one module per source format, registered in `LOADERS`.

Adding a format = one module with a `load_<format>(src: Path) -> list[LoadedScene]`
function plus one line in `LOADERS` (and a `SceneSource` name in scenes/schema.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from common.errors import UserError
from common.io import atomic_directory
from scenes.loaders.arkitscenes import load_arkitscenes
from scenes.loaders.base import LoadedScene, Loader, LoaderWarning
from scenes.loaders.scannet import load_scannet
from scenes.loaders.vsibench_meta import load_vsibench_meta

__all__ = ["LOADERS", "LoadedScene", "Loader", "LoaderWarning", "import_scenes", "load_scenes"]

LOADERS: dict[str, Loader] = {
    "vsibench-meta": load_vsibench_meta,
    "scannet": load_scannet,
    "arkitscenes": load_arkitscenes,
}


def load_scenes(format: str, src: Path) -> list[LoadedScene]:
    """Read and validate every scene in `src` without writing anything."""
    loader = LOADERS.get(format)
    if loader is None:
        known = ", ".join(sorted(LOADERS))
        raise UserError(f"unknown scene format '{format}'; known formats: {known}")
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder (the source for --format {format})")
    return loader(src)


def import_scenes(format: str, src: Path, out: Path) -> list[Path]:
    """Write ``out/<scene_id>/scene.json`` (+ ``frames/``) for each scene in `src`.

    All scenes are read and validated first; each scene folder is then written
    atomically, and if any write fails the folders already written by this call are
    removed, so `out` gains either every scene or none.
    """
    loaded = load_scenes(format, src)
    out = Path(out)
    ids = [item.scene.id for item in loaded]
    repeated = sorted({scene_id for scene_id in ids if ids.count(scene_id) > 1})
    if repeated:
        raise UserError(f"{src}: scene id(s) {', '.join(repeated)} occur more than once")
    taken = sorted(item.scene.id for item in loaded if (out / item.scene.id).exists())
    if taken:
        shown = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
        raise UserError(
            f"{out} already holds scene folder(s) {shown}; choose another --out or remove them"
        )
    out_existed = out.exists()
    written: list[Path] = []
    try:
        for item in loaded:
            target = out / item.scene.id
            with atomic_directory(target) as staging:
                _write_scene(item, staging)
            written.append(target)
    except BaseException:
        for target in written:
            shutil.rmtree(target, ignore_errors=True)
        if not out_existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    return written


def _write_scene(item: LoadedScene, scene_dir: Path) -> None:
    for relative, source in item.frame_files.items():
        destination = scene_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    item.scene.save(scene_dir)
