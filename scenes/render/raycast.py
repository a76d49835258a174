"""Ray-cast renderer: RGB, per-pixel instance ids and depth from one primary ray per pixel.

Speed comes from doing nothing twice: the embree scene is built once per scene, the
camera-space ray directions once per set of intrinsics, and each triangle's lit colour
(for both of its sides) once per scene; per frame, a pixel then costs one gather from
a small per-triangle colour table. Rays are cast in row chunks on a thread pool; embree
and numpy release the GIL, so the chunks run in parallel.

Embree is reached through ``embreex`` (the engine behind trimesh's
``trimesh.ray.ray_pyembree.RayMeshIntersector``), called directly so that one pass
returns the triangle and the distance without trimesh's float64 copies. Without embreex
(not x86-64, or ``use_embree=False``), trimesh's pure-numpy intersector is used: the
same images up to float rounding at triangle edges, many times slower.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import trimesh

from scenes.render.meshes import build_meshes
from scenes.schema import CameraIntrinsics, Frame, Scene

try:
    from embreex import rtcore_scene
    from embreex.mesh_construction import TriangleMesh

    HAVE_EMBREE = True
except ImportError:  # pragma: no cover - only on machines without embreex wheels
    HAVE_EMBREE = False


@dataclass(frozen=True)
class RenderConfig:
    """Lighting and parallelism of the renderer."""

    ambient: float = field(default=0.45, metadata={"help": "Light every surface receives."})
    key_direction: tuple[float, float, float] = field(
        default=(0.35, 0.55, 1.0), metadata={"help": "Direction towards the main light (world)."}
    )
    key_strength: float = field(
        default=0.45, metadata={"help": "Lambert weight of the main light."}
    )
    fill_direction: tuple[float, float, float] = field(
        default=(-0.7, -0.3, 0.3), metadata={"help": "Direction towards the fill light (world)."}
    )
    fill_strength: float = field(
        default=0.2, metadata={"help": "Lambert weight of the fill light."}
    )
    background: tuple[int, int, int] = field(
        default=(0, 0, 0), metadata={"help": "RGB of pixels whose ray hits nothing."}
    )
    threads: int = field(
        default=0, metadata={"help": "Worker threads casting rays; 0 uses every core."}
    )
    use_embree: bool = field(
        default=True,
        metadata={
            "help": "Cast rays with embree when embreex is installed; False forces trimesh's numpy intersector."
        },
    )
    chunks_per_thread: int = field(
        default=2, metadata={"help": "Row chunks per thread per frame (evens out the load)."}
    )


@dataclass(frozen=True)
class RenderResult:
    """One rendered view. ``instance``: object ids > 0, room structure < 0, 0 where nothing was hit."""

    rgb: np.ndarray
    instance: np.ndarray
    depth: np.ndarray
    visible: dict[int, int]
    boxes: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)

    def object_ids(self) -> np.ndarray:
        """Instance image with only objects kept (structure and misses are 0), as uint16."""
        return np.where(self.instance > 0, self.instance, 0).astype(np.uint16)


@dataclass(frozen=True)
class CameraRays:
    planar: np.ndarray  # (3, H*W) float32: x, y, z rows of unit rays in camera axes (OpenCV)

    @property
    def count(self) -> int:
        return self.planar.shape[1]

    @property
    def z_factor(self) -> np.ndarray:
        """Depth along the camera's +z per metre travelled along each ray."""
        return self.planar[2]

    def world(self, rotation: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Rays ``start:stop`` turned into world axes, (n, 3) float32.

        Written as nine scaled adds rather than a matrix product: BLAS threads fight
        the renderer's own threads and are many times slower here.
        """
        x, y, z = self.planar[0, start:stop], self.planar[1, start:stop], self.planar[2, start:stop]
        r = rotation
        return np.stack(
            [
                x * r[0, 0] + y * r[0, 1] + z * r[0, 2],
                x * r[1, 0] + y * r[1, 1] + z * r[1, 2],
                x * r[2, 0] + y * r[2, 1] + z * r[2, 2],
            ],
            axis=1,
        )


def instance_boxes(instance: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """2D box (x0, y0, x1, y1, inclusive) of every object id > 0 in an instance image.

    Works on horizontal runs of equal ids rather than on pixels (a few thousand runs for a
    640x480 frame), so it adds about a millisecond to a frame.
    """
    height, width = instance.shape
    if instance.size == 0:
        return {}
    starts = np.empty((height, width), dtype=bool)
    starts[:, 0] = True
    np.not_equal(instance[:, 1:], instance[:, :-1], out=starts[:, 1:])
    ys, xs = np.nonzero(starts)
    ids = instance[ys, xs]
    ends = np.full_like(xs, width - 1)
    same_row = ys[1:] == ys[:-1]
    ends[:-1][same_row] = xs[1:][same_row] - 1
    keep = ids > 0
    ids, ys, xs, ends = ids[keep], ys[keep], xs[keep], ends[keep]
    if ids.size == 0:
        return {}
    order = np.argsort(ids, kind="stable")
    ids, ys, xs, ends = ids[order], ys[order], xs[order], ends[order]
    unique, first = np.unique(ids, return_index=True)
    x0, x1 = np.minimum.reduceat(xs, first), np.maximum.reduceat(ends, first)
    y0, y1 = np.minimum.reduceat(ys, first), np.maximum.reduceat(ys, first)
    return {
        int(i): (int(a), int(b), int(c), int(d))
        for i, a, b, c, d in zip(unique, x0, y0, x1, y1, strict=True)
    }


def camera_rays(intrinsics: CameraIntrinsics) -> CameraRays:
    """One unit ray per pixel centre, in camera axes (+x right, +y down, +z forward)."""
    u = (np.arange(intrinsics.width, dtype=np.float64) + 0.5 - intrinsics.cx) / intrinsics.fx
    v = (np.arange(intrinsics.height, dtype=np.float64) + 0.5 - intrinsics.cy) / intrinsics.fy
    uu, vv = np.meshgrid(u, v)
    rays = np.stack([uu, vv, np.ones_like(uu)], axis=-1).reshape(-1, 3)
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    return CameraRays(np.ascontiguousarray(rays.T, dtype=np.float32))


def _unit(vector: Sequence[float]) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64)
    return v / np.linalg.norm(v)


class Renderer:
    """Renders any Scene (or a list of instance-id meshes) from any camera.

    Build it once per scene and call ``render`` per view; ``close`` (or a ``with``
    block) stops its worker threads.
    """

    def __init__(
        self,
        scene: Scene | None = None,
        *,
        meshes: Sequence[tuple[int, trimesh.Trimesh]] | None = None,
        config: RenderConfig | None = None,
    ) -> None:
        if (scene is None) == (meshes is None):
            raise ValueError("give exactly one of scene or meshes")
        self.config = config or RenderConfig()
        parts = build_meshes(scene) if scene is not None else list(meshes or [])
        if not parts:
            raise ValueError("nothing to render: the mesh list is empty")
        vertices, faces, instance, colours = [], [], [], []
        offset = 0
        for instance_id, mesh in parts:
            vertices.append(np.asarray(mesh.vertices, dtype=np.float64))
            faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
            offset += len(mesh.vertices)
            instance.append(np.full(len(mesh.faces), instance_id, dtype=np.int32))
            colours.append(np.asarray(mesh.visual.face_colors, dtype=np.float64)[:, :3] / 255.0)
        self.vertices = np.concatenate(vertices)
        self.faces = np.concatenate(faces)
        self.face_instance = np.concatenate(instance)
        self.face_normals = self._face_normals()
        self._plane_offsets = np.einsum(
            "ij,ij->i", self.face_normals, self.vertices[self.faces[:, 0]]
        )
        self._shade_table = self._build_shade_table(np.concatenate(colours))
        # index -1 (a ray that hits nothing) lands on an appended background entry
        self._instance_lookup = np.append(self.face_instance, 0).astype(np.int32)
        self._instance_ids, self._face_slot = np.unique(self.face_instance, return_inverse=True)
        self._rays: dict[tuple[int, int, float, float, float, float], CameraRays] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._finalizer: weakref.finalize | None = None
        embree = HAVE_EMBREE and self.config.use_embree
        self._embree = self._build_embree() if embree else None
        self._fallback = None if embree else self._build_fallback()

    # -- construction ------------------------------------------------------------------
    def _face_normals(self) -> np.ndarray:
        tri = self.vertices[self.faces]
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        return normals / np.where(length > 0, length, 1.0)

    def _build_shade_table(self, colours: np.ndarray) -> np.ndarray:
        """(2, F, 3) uint8: each triangle lit as seen from its normal's side [0] and from behind [1]."""
        cfg = self.config
        normals = self.face_normals
        key, fill = _unit(cfg.key_direction), _unit(cfg.fill_direction)
        table = np.empty((2, len(colours), 3), dtype=np.uint8)
        for side, sign in ((0, 1.0), (1, -1.0)):
            lambert = cfg.ambient + cfg.key_strength * np.clip(sign * (normals @ key), 0, None)
            lambert += cfg.fill_strength * np.clip(sign * (normals @ fill), 0, None)
            table[side] = np.clip(np.rint(colours * lambert[:, None] * 255), 0, 255).astype(
                np.uint8
            )
        return table

    def _build_embree(self) -> object:
        scene = rtcore_scene.EmbreeScene()
        TriangleMesh(
            scene=scene,
            vertices=self.vertices.astype(np.float32),
            indices=self.faces.astype(np.int32),
        )
        # the first query commits the BVH; do it here, not racing in worker threads
        scene.run(np.zeros((1, 3), np.float32), np.array([[0, 0, 1]], np.float32))
        return scene

    def _build_fallback(self) -> object:
        mesh = trimesh.Trimesh(self.vertices, self.faces, process=False)
        return trimesh.ray.ray_triangle.RayMeshIntersector(mesh)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            workers = self.config.threads or os.cpu_count() or 1
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render")
            self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False)
        return self._pool

    # -- queries -----------------------------------------------------------------------
    def cast(self, origins: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First hit per ray (float32 (n, 3) origins and unit directions): triangle index or -1, distance."""
        if self._embree is not None:
            hit = self._embree.run(origins, directions, output=1)  # type: ignore[attr-defined]
            return hit["primID"], hit["tfar"]
        return self._cast_fallback(origins, directions)

    def _cast_fallback(
        self, origins: np.ndarray, directions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        tri, ray, locations = self._fallback.intersects_id(  # type: ignore[attr-defined]
            np.asarray(origins), directions, multiple_hits=False, return_locations=True
        )
        prim = np.full(len(origins), -1, dtype=np.int32)
        dist = np.full(len(origins), np.inf, dtype=np.float32)
        prim[ray] = tri
        dist[ray] = np.linalg.norm(locations - np.asarray(origins)[ray], axis=1)
        return prim, dist

    def rays_for(self, intrinsics: CameraIntrinsics) -> CameraRays:
        key = (
            intrinsics.width,
            intrinsics.height,
            intrinsics.fx,
            intrinsics.fy,
            intrinsics.cx,
            intrinsics.cy,
        )
        if key not in self._rays:
            self._rays[key] = camera_rays(intrinsics)
        return self._rays[key]

    def _colours_seen_from(self, origin: np.ndarray) -> np.ndarray:
        """(F + 1, 3): each triangle's colour from this eye point (its lit or its back side), then background.

        All primary rays share the eye, so which side of a flat triangle they see is
        fixed per triangle: no per-pixel normal test is needed.
        """
        n = self.face_normals
        behind = (
            n[:, 0] * origin[0] + n[:, 1] * origin[1] + n[:, 2] * origin[2] < self._plane_offsets
        )
        colours = np.where(behind[:, None], self._shade_table[1], self._shade_table[0])
        return np.vstack([colours, np.asarray(self.config.background, dtype=np.uint8)])

    def render(self, intrinsics: CameraIntrinsics, camera_to_world: np.ndarray) -> RenderResult:
        """Render one view; ``camera_to_world`` is a 4x4 pose with OpenCV camera axes."""
        pose = np.asarray(camera_to_world, dtype=np.float64)
        rays = self.rays_for(intrinsics)
        count = rays.count
        rgb = np.empty((count, 3), dtype=np.uint8)
        instance = np.empty(count, dtype=np.int32)
        depth = np.empty(count, dtype=np.float32)
        rotation = pose[:3, :3].astype(np.float32)
        origin = pose[:3, 3].astype(np.float32)
        colours = self._colours_seen_from(pose[:3, 3])
        workers = self.config.threads or os.cpu_count() or 1
        bounds = np.linspace(0, count, workers * self.config.chunks_per_thread + 1).astype(int)

        def work(start: int, stop: int) -> np.ndarray:
            directions = rays.world(rotation, start, stop)
            prim, dist = self.cast(np.broadcast_to(origin, directions.shape), directions)
            np.take(colours, prim, axis=0, out=rgb[start:stop], mode="wrap")
            np.take(self._instance_lookup, prim, out=instance[start:stop], mode="wrap")
            np.multiply(dist, rays.z_factor[start:stop], out=depth[start:stop])
            depth[start:stop][prim < 0] = 0.0
            return np.bincount(prim + 1, minlength=len(self.faces) + 1)

        if len(bounds) > 2:
            jobs = [self._executor().submit(work, a, b) for a, b in pairwise(bounds)]
            face_hits = sum(job.result() for job in jobs)
        else:
            face_hits = work(0, count)
        shape = (intrinsics.height, intrinsics.width)
        return RenderResult(
            rgb.reshape(*shape, 3),
            instance.reshape(shape),
            depth.reshape(shape),
            self._visible(face_hits[1:]),
            instance_boxes(instance.reshape(shape)),
        )

    def _visible(self, face_hits: np.ndarray) -> dict[int, int]:
        """Pixels per object, summed from pixels per triangle."""
        per_instance = np.bincount(
            self._face_slot, weights=face_hits, minlength=len(self._instance_ids)
        )
        return {
            int(i): int(c)
            for i, c in zip(self._instance_ids, per_instance, strict=True)
            if i > 0 and c > 0
        }

    def render_frame(self, frame: Frame) -> RenderResult:
        return self.render(frame.intrinsics, frame.pose)

    # -- lifetime ----------------------------------------------------------------------
    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._pool = None
        self._finalizer = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
