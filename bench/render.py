"""Render speed against its physical ceiling, on procedural scenes.

    .venv/bin/python bench/render.py [--seeds 0 1 2 3] [--width 640 --height 480]

Rows: full frames per second (rays, shading, instance ids, depth, visibility counts);
the ceiling, i.e. embree's first-hit query alone over the same primary rays
(rays per second, and the frame rate that would allow), on one thread and on all;
trimesh's ``RayMeshIntersector.intersects_first`` on the same rays for reference;
and the end-to-end time to generate and write one scene. The machine's load average
is printed beside the table: other processes slow every row.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import trimesh
from bench_common import parse_config
from rich.console import Console
from rich.table import Table
from trimesh.ray.ray_pyembree import RayMeshIntersector

from scenes.procedural import layout_scene, write_scene
from scenes.render import RenderConfig, Renderer
from scenes.schema import Frame


@dataclass(frozen=True)
class BenchConfig:
    seeds: list[int] = field(
        default_factory=lambda: [0, 1, 2, 3],
        metadata={"help": "Procedural scene seeds to measure on."},
    )
    frames: int = field(
        default=32, metadata={"help": "Frames per scene (the walkthrough's length)."}
    )
    width: int = field(default=640, metadata={"help": "Frame width in pixels."})
    height: int = field(default=480, metadata={"help": "Frame height in pixels."})
    repeats: int = field(
        default=3, metadata={"help": "Passes over each scene's frames; the best pass counts."}
    )
    threads: int = field(default=0, metadata={"help": "Renderer threads (0: every core)."})


@dataclass
class Measure:
    """Best pass of one measurement, summed over scenes: wall seconds, CPU seconds, frames."""

    wall: float = 0.0
    cpu: float = 0.0
    frames: int = 0

    def add(self, run: Callable[[], object], frames: int, repeats: int) -> None:
        """Time ``run`` (which renders ``frames`` frames) ``repeats`` times; keep the fastest pass.

        CPU time is the whole process's (all threads), so frames per CPU-second says what
        one free core delivers even while other jobs share the machine.
        """
        best = (float("inf"), 0.0)
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
        self.wall += best[0]
        self.cpu += best[1]
        self.frames += frames


def world_rays(renderer: Renderer, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """The frame's primary rays in world axes, exactly as the renderer casts them."""
    rays = renderer.rays_for(frame.intrinsics)
    directions = rays.world(frame.pose[:3, :3].astype(np.float32), 0, rays.count)
    origins = np.ascontiguousarray(
        np.broadcast_to(frame.pose[:3, 3].astype(np.float32), directions.shape)
    )
    return origins, directions


@dataclass
class Timings:
    render: Measure = field(default_factory=Measure)
    embree_all_threads: Measure = field(default_factory=Measure)
    embree_one_thread: Measure = field(default_factory=Measure)
    trimesh: Measure = field(default_factory=Measure)
    triangles: list[int] = field(default_factory=list)
    build_seconds: list[float] = field(default_factory=list)


def measure_scene(
    seed: int, cfg: BenchConfig, threads: int, pool: ThreadPoolExecutor, into: Timings
) -> None:
    scene = layout_scene(seed, cfg.frames, cfg.width, cfg.height)
    start = time.perf_counter()
    renderer = Renderer(scene, config=RenderConfig(threads=cfg.threads))
    into.build_seconds.append(time.perf_counter() - start)
    into.triangles.append(len(renderer.faces))
    renderer.render_frame(scene.frames[0])  # warm: thread pool, ray directions
    frames = len(scene.frames)
    into.render.add(lambda: [renderer.render_frame(f) for f in scene.frames], frames, cfg.repeats)
    rays = [world_rays(renderer, f) for f in scene.frames]
    into.embree_one_thread.add(lambda: [renderer.cast(o, d) for o, d in rays], frames, cfg.repeats)
    chunks = np.linspace(0, cfg.width * cfg.height, threads * 2 + 1).astype(int)

    def parallel_cast() -> None:
        for o, d in rays:
            jobs = [pool.submit(renderer.cast, o[a:b], d[a:b]) for a, b in pairwise(chunks)]
            for job in jobs:
                job.result()

    into.embree_all_threads.add(parallel_cast, frames, cfg.repeats)
    reference = RayMeshIntersector(
        trimesh.Trimesh(renderer.vertices, renderer.faces, process=False)
    )
    sample = rays[:4]
    reference.intersects_first(*sample[0])  # builds its BVH
    into.trimesh.add(lambda: [reference.intersects_first(o, d) for o, d in sample], len(sample), 1)
    renderer.close()


def main() -> None:
    cfg = parse_config(BenchConfig, __doc__.splitlines()[0])
    console = Console(width=120)
    pixels = cfg.width * cfg.height
    threads = cfg.threads or os.cpu_count() or 1
    load_before = os.getloadavg()
    timings = Timings()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for seed in cfg.seeds:
            measure_scene(seed, cfg, threads, pool, timings)
    generate_seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in cfg.seeds[:2]:
            start = time.perf_counter()
            write_scene(seed, Path(tmp) / str(seed), cfg.frames, cfg.width, cfg.height)
            generate_seconds.append(time.perf_counter() - start)
    load_after = os.getloadavg()

    title = f"Render at {cfg.width}x{cfg.height}, {len(cfg.seeds)} procedural scenes x {cfg.frames} frames"
    table = Table(title=title)
    for column in ("measurement", "rays/s", "frames/s", "frames/CPU-s", "notes"):
        table.add_column(column, justify="left" if column in ("measurement", "notes") else "right")

    def row(name: str, measure: Measure, note: str) -> None:
        fps = measure.frames / measure.wall
        per_core = measure.frames / measure.cpu if measure.cpu > 0 else float("nan")
        table.add_row(name, f"{fps * pixels / 1e6:.2f} M", f"{fps:.1f}", f"{per_core:.1f}", note)

    row("renderer, full frame", timings.render, f"{threads} threads: rgb, ids, depth, visibility")
    row(
        "ceiling: embree first hit",
        timings.embree_all_threads,
        f"{threads} threads, intersection call alone",
    )
    row("ceiling: embree first hit", timings.embree_one_thread, "1 thread, intersection call alone")
    row("trimesh intersects_first", timings.trimesh, "1 thread, for reference")
    table.add_row(
        "generate + write a scene",
        "",
        "",
        "",
        f"{np.mean(generate_seconds):.2f} s per scene of {cfg.frames} frames, PNGs included",
    )
    console.print(table)
    console.print(
        f"triangles per scene {min(timings.triangles)}-{max(timings.triangles)}; "
        f"renderer build {1000 * np.mean(timings.build_seconds):.0f} ms; cores {os.cpu_count()}; "
        f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )


if __name__ == "__main__":
    main()
