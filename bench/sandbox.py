"""Sandbox throughput and latency for a typical ground-truth program, against floor and baseline.

    .venv/bin/python bench/sandbox.py [--runs 400] [--naive-runs 16] [--workers 2]

Rows, on the same procedural scene and program (the distance between two objects' boxes and
a count):
- in-process exec: compile, exec in a fresh namespace, solve, JSON-safe conversion, on a
  SceneView built once per scene; no isolation at all, so the floor;
- warm pool: `LocalSandbox` (fork per run from a preloaded worker, limits, guards,
  namespaces where available), `workers` runs in parallel;
- new python per program: a fresh interpreter per run that imports the same libraries
  (the runtime's `--once` mode), `workers` at a time: the naive baseline.
runs/s is throughput over the whole batch; p50/p99 are per-run latencies measured one run at
a time. The load average is printed too: other processes slow every row.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench_common import parse_config  # noqa: E402

from scenes.procedural import layout_scene  # noqa: E402
from tools.sandbox import make_sandbox  # noqa: E402
from tools.sandbox.base import scene_to_dict  # noqa: E402
from tools.sandbox.library import GEOMETRY_DIR, stage_library, worker_command  # noqa: E402

PROGRAM = """
import geometry as g

def solve(scene):
    first, second = scene.categories()[:2]
    a, b = scene.objects_of(first)[0], scene.objects_of(second)[0]
    return {"distance": round(g.box_distance(a, b), 3), "count": scene.count(first)}
"""


@dataclass(frozen=True)
class BenchConfig:
    runs: int = field(default=400, metadata={"help": "Runs for the floor and the warm pool."})
    naive_runs: int = field(default=16, metadata={"help": "Runs for the new-process baseline."})
    workers: int = field(default=2, metadata={"help": "Pool workers (and baseline concurrency)."})
    seed: int = field(default=0, metadata={"help": "Procedural scene seed."})


@dataclass
class Row:
    name: str
    runs_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # CPU time per run, all processes involved: independent of other load
    answer: Any


def cpu_seconds() -> float:
    """CPU time of this process and of every descendant that has been waited for."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def latencies_ms(run_one: Callable[[], Any], count: int) -> tuple[list[float], Any]:
    times, answer = [], None
    for _ in range(count):
        started = time.perf_counter()
        answer = run_one()
        times.append((time.perf_counter() - started) * 1000)
    return times, answer


def row(
    name: str, batch_s: float, count: int, times: list[float], cpu_s: float, answer: Any
) -> Row:
    return Row(
        name,
        count / batch_s,
        float(np.percentile(times, 50)),
        float(np.percentile(times, 99)),
        cpu_s * 1000 / count,
        answer,
    )


def in_process_floor(scene: Any, runs: int) -> Row:
    """No isolation: what running the program costs at all."""
    sys.path.insert(0, str(GEOMETRY_DIR.parent))
    import geometry

    from tools.sandbox.runtime.child import to_json_safe

    view = geometry.SceneView(scene_to_dict(scene))

    def run_one() -> Any:
        namespace: dict[str, Any] = {"__name__": "__program__", "__builtins__": builtins}
        exec(compile(PROGRAM, "<program>", "exec"), namespace)
        return to_json_safe(namespace["solve"](view))

    run_one()  # warm caches, as the pool is warm
    cpu_before, started = cpu_seconds(), time.perf_counter()
    for _ in range(runs):
        run_one()
    batch_s, cpu_s = time.perf_counter() - started, cpu_seconds() - cpu_before
    times, answer = latencies_ms(run_one, runs)
    return row("in-process exec (floor, no isolation)", batch_s, runs, times, cpu_s, answer)


def process_tree_cpu_seconds(roots: list[int]) -> float:
    """CPU time of the processes under `roots` (from /proc, children they reaped included).

    A jailed worker's processes live in their own pid namespace and their times never reach
    this process's RUSAGE_CHILDREN, so they are read where the host can see them."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(value) for value in fields[11:15]) / tick  # u, s, cu, cs
    inside = set(roots)
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in inside} - inside
        grew = bool(found)
        inside |= found
    return sum(times.get(pid, 0.0) for pid in inside)


def warm_pool(scene: Any, runs: int, workers: int) -> tuple[Row, dict[str, Any]]:
    """CPU per run: this process plus every process of the workers' trees, read before and
    after the batch in one session (so starting and stopping workers is not counted)."""
    with make_sandbox("local", workers=workers) as pool:
        first = pool.run(PROGRAM, scene)
        if not first.ok:
            raise SystemExit(f"the pool failed the benchmark program: {first}")
        isolation = pool.isolation
        roots = [w.process.pid for w in pool._workers if w is not None]
        cpu_before = cpu_seconds() + process_tree_cpu_seconds(roots)
        started = time.perf_counter()
        results = pool.run_many([(PROGRAM, scene)] * runs)
        batch_s = time.perf_counter() - started
        cpu_s = cpu_seconds() + process_tree_cpu_seconds(roots) - cpu_before
    assert all(r.value == first.value for r in results)
    with make_sandbox("local", workers=workers) as pool:
        pool.run(PROGRAM, scene)
        times, answer = latencies_ms(lambda: pool.run(PROGRAM, scene).value, runs)
    name = f"warm pool ({workers} workers)"
    return row(name, batch_s, runs, times, cpu_s, answer), isolation


def new_process_per_program(scene: Any, runs: int, workers: int) -> Row:
    """A fresh Python per program, importing the same libraries: the naive baseline."""
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as folder:
        root = Path(folder)
        library = stage_library(root / "lib")
        (root / "runs").mkdir()
        settings = json.dumps({"runs_root": str(root / "runs"), "library_dir": str(library)})
        job = root / "job.json"
        job.write_text(
            json.dumps(
                {
                    "program": PROGRAM,
                    "scene": scene_to_dict(scene),
                    "timeout_s": 30.0,
                    "memory_mb": 1024,
                }
            )
        )
        command = worker_command(sys.executable, library, "--once", str(job), settings)
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"}

        def run_one() -> Any:
            done = subprocess.run(command, capture_output=True, env=env, check=True)
            return json.loads(done.stdout.decode().strip().splitlines()[-1]).get("value")

        cpu_before, started = cpu_seconds(), time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as executor:
            answers = list(executor.map(lambda _: run_one(), range(runs)))
        batch_s, cpu_s = time.perf_counter() - started, cpu_seconds() - cpu_before
        times, answer = latencies_ms(run_one, max(4, runs // 2))
    assert all(a == answer for a in answers)
    name = f"new python per program ({workers} at a time)"
    return row(name, batch_s, runs, times, cpu_s, answer)


def main() -> None:
    config = parse_config(BenchConfig, (__doc__ or "").splitlines()[0])
    scene = layout_scene(config.seed)
    floor = in_process_floor(scene, config.runs)
    pool, isolation = warm_pool(scene, config.runs, config.workers)
    naive = new_process_per_program(scene, config.naive_runs, config.workers)
    rows = [floor, pool, naive]
    if len({json.dumps(r.answer, sort_keys=True) for r in rows}) != 1:
        raise SystemExit(f"rows disagree on the answer: {[r.answer for r in rows]}")

    print(
        f"scene: procedural seed {config.seed}, {len(scene.objects)} objects, "
        f"{len(scene.frames)} frames; answer {floor.answer}"
    )
    print(f"pool isolation: {isolation}")
    print(f"load average: {os.getloadavg()}, cpus: {os.cpu_count()}\n")
    print("| row | runs/s | p50 ms | p99 ms | CPU ms/run |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for each in rows:
        print(
            f"| {each.name} | {each.runs_per_s:.1f} | {each.p50_ms:.2f} | {each.p99_ms:.2f} "
            f"| {each.cpu_ms:.2f} |"
        )
    speedup = pool.runs_per_s / naive.runs_per_s
    slowdown = floor.runs_per_s / pool.runs_per_s
    print(
        f"\nruns/s, as measured: warm pool {speedup:.0f}x naive (target >= 20x: "
        f"{'met' if speedup >= 20 else 'missed'}); floor {slowdown:.1f}x warm pool "
        f"(target <= 3x: {'met' if slowdown <= 3 else 'missed'})"
    )
    print(
        f"CPU per run (unaffected by other load): naive {naive.cpu_ms / pool.cpu_ms:.0f}x "
        f"warm pool; warm pool {pool.cpu_ms / floor.cpu_ms:.1f}x floor per core, "
        f"{pool.cpu_ms / floor.cpu_ms / config.workers:.1f}x with {config.workers} workers "
        "on idle cores"
    )


if __name__ == "__main__":
    main()
