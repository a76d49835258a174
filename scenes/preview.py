"""One PNG that lets a person understand a scene at a glance.

Left: a top-down map (floor outline and walls, doors and windows, every object's
footprint coloured by category, the camera path with heading arrows). Right: a contact
sheet of up to 16 evenly spaced frames, each labelled with its frame index; the same
indices mark the camera path, so a thumbnail can be found on the map. Scenes without
frames (metadata-only sources) get the map alone; without a floor outline the map
shows the boxes and the room centre.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Arc, Patch
from matplotlib.patches import Polygon as PolygonPatch
from PIL import Image
from scipy.spatial import ConvexHull, QhullError

from common.io import atomic_write_bytes
from scenes.schema import Frame, Opening, Scene, SceneObject

MAX_THUMBNAILS = 16
THUMBNAIL_SIZE = (320, 240)
FLOOR_COLOUR = "#f4f1ea"
WALL_COLOUR = "#3a3a3a"
DOOR_COLOUR = "#a0522d"
WINDOW_COLOUR = "#4aa3df"
CAMERA_MAP = "plasma"
OUTLINE = [patheffects.withStroke(linewidth=2.5, foreground="white")]


def render_preview(scene_dir: Path, out: Path) -> Path:
    """Write the preview PNG of the scene in `scene_dir` to `out` (atomically); return `out`."""
    scene_dir, out = Path(scene_dir), Path(out)
    scene = Scene.load(scene_dir, check_files=False)  # missing images get a placeholder
    scene = scene.model_copy(update={"frames": scene.walkthrough_frames})  # not orbit views
    folder = scene_dir if scene_dir.is_dir() else scene_dir.parent
    shown = contact_frame_positions(len(scene.frames))
    thumbnails = [_thumbnail(folder, scene.frames[i]) for i in shown] if scene.has_frames else []
    figure = _layout(scene, shown, thumbnails)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=100, facecolor="white")
    atomic_write_bytes(out, buffer.getvalue())
    return out


def contact_frame_positions(frame_count: int, limit: int = MAX_THUMBNAILS) -> list[int]:
    """Up to `limit` evenly spaced positions in ``range(frame_count)``, first and last included."""
    if frame_count <= limit:
        return list(range(frame_count))
    return sorted({round(x) for x in np.linspace(0, frame_count - 1, limit)})


# -- layout -------------------------------------------------------------------------------


def _layout(scene: Scene, shown: list[int], thumbnails: list[Image.Image | None]) -> Figure:
    if not thumbnails:
        figure = Figure(figsize=(11.5, 9), layout="constrained")
        _draw_map(figure.add_subplot(), scene, shown)
        return figure
    columns = min(4, len(thumbnails))
    rows = math.ceil(len(thumbnails) / columns)
    sheet_width = min(9.0, 2.4 * columns)
    figure = Figure(figsize=(11.0 + sheet_width, 9.5), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[11.0, sheet_width])
    _draw_map(left.add_subplot(), scene, shown)
    right.suptitle(f"{len(thumbnails)} of {len(scene.frames)} frames", fontsize=12)
    axes = right.subplots(rows, columns, squeeze=False)
    for slot, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if slot < len(thumbnails):
            _draw_thumbnail(ax, thumbnails[slot], scene.frames[shown[slot]])
    return figure


def _thumbnail(folder: Path, frame: Frame) -> Image.Image | None:
    path = folder / (frame.image_path or "")
    try:
        with Image.open(path) as image:
            small = image.convert("RGB")
            small.thumbnail(THUMBNAIL_SIZE)
            return small
    except (OSError, ValueError):
        return None


def _draw_thumbnail(ax: Axes, image: Image.Image | None, frame: Frame) -> None:
    if image is None:
        ax.imshow(np.full((3, 4, 3), 200, dtype=np.uint8))
        ax.text(0.5, 0.5, "image missing", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.imshow(np.asarray(image))
    ax.text(
        0.03,
        0.96,
        f"#{frame.index}",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=10,
        fontweight="bold",
        color="black",
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "lw": 0},
    )


# -- map ----------------------------------------------------------------------------------


def _draw_map(ax: Axes, scene: Scene, shown: list[int]) -> None:
    room = scene.room
    polygon = np.asarray(room.floor_polygon, dtype=float).reshape(-1, 2)
    legend: list[Line2D | Patch] = []
    if len(polygon):
        ax.add_patch(
            PolygonPatch(polygon, closed=True, facecolor=FLOOR_COLOUR, edgecolor=WALL_COLOUR, lw=3)
        )
        for opening in room.openings:
            _draw_opening(ax, polygon, opening)
        kinds = {opening.kind for opening in room.openings}
        if "door" in kinds:
            legend.append(Line2D([], [], color=DOOR_COLOUR, lw=1.5, label="door (swing)"))
        if "window" in kinds:
            legend.append(Line2D([], [], color=WINDOW_COLOUR, lw=5, label="window"))
    colours = _category_colours(scene)
    for obj in sorted(scene.objects, key=lambda o: o.box.axis_aligned_bounds()[1][2]):
        _draw_object(ax, obj, colours[obj.category])
    if len(polygon) == 0:
        centre = _room_centre(scene)
        ax.plot(*centre, marker="X", ms=14, color="black", mec="white", zorder=6)
        legend.append(Line2D([], [], marker="X", ls="", color="black", ms=10, label="room centre"))
    if scene.frames:
        legend += _draw_camera_path(ax, scene.frames)
    ax.set_aspect("equal")
    ax.autoscale_view()
    _pad_limits(ax, 0.3)
    ax.grid(True, color="#dddddd", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(_title(scene), fontsize=12)
    metres_per_point = _metres_per_point(ax)
    _label_large_objects(ax, scene.objects, metres_per_point)
    if scene.frames:
        _label_frames(ax, scene.frames, shown, metres_per_point)
    legend += [
        Patch(facecolor=colours[c], edgecolor="black", label=label)
        for c, label in _category_labels(scene).items()
    ]
    ax.legend(
        handles=legend,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        ncol=2 if len(legend) > 28 else 1,
    )


def _title(scene: Scene) -> str:
    outline = "" if scene.room.floor_polygon else " (no outline published)"
    return (
        f"{scene.id}  ·  {scene.source}  ·  {scene.room.area:.1f} m²{outline}  ·  "
        f"height {scene.room.height:.2f} m\n{len(scene.objects)} objects  ·  "
        f"{len(scene.frames)} frames"
    )


def _category_labels(scene: Scene) -> dict[str, str]:
    """'chair (4)', or 'window (5 boxes, 7 counted)' where the source's counts differ."""
    boxes: dict[str, int] = {}
    for obj in scene.objects:
        boxes[obj.category] = boxes.get(obj.category, 0) + 1
    declared = scene.categories()
    return {
        c: f"{c} ({n})" if declared.get(c, n) == n else f"{c} ({n} boxes, {declared[c]} counted)"
        for c, n in sorted(boxes.items())
    }


def _category_colours(scene: Scene) -> dict[str, tuple[float, ...]]:
    categories = sorted({obj.category for obj in scene.objects})
    palette = [
        *matplotlib.colormaps["tab20"].colors,
        *matplotlib.colormaps["tab20b"].colors,
        *matplotlib.colormaps["tab20c"].colors,
    ]
    # tab20 pairs a strong and a pale shade; take the strong ones first
    ordered = palette[0:20:2] + palette[1:20:2] + palette[20:]
    return {c: ordered[i % len(ordered)] for i, c in enumerate(categories)}


def _footprint(obj: SceneObject) -> np.ndarray:
    corners = obj.box.corners()[:, :2]
    try:
        return corners[ConvexHull(corners).vertices]
    except (QhullError, ValueError):  # a flat or degenerate box: draw its extent
        low, high = corners.min(axis=0), corners.max(axis=0)
        return np.array([low, (high[0], low[1]), high, (low[0], high[1])])


def _draw_object(ax: Axes, obj: SceneObject, colour: tuple[float, ...]) -> None:
    ax.add_patch(
        PolygonPatch(
            _footprint(obj), closed=True, facecolor=(*colour[:3], 0.7), edgecolor="black", lw=0.8
        )
    )


def _metres_per_point(ax: Axes) -> float:
    """Map scale in metres per typographic point (equal aspect: the tighter axis decides)."""
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    box = ax.get_window_extent()
    points_per_pixel = 72 / ax.figure.dpi
    return max(
        (x_high - x_low) / max(box.width * points_per_pixel, 1.0),
        (y_high - y_low) / max(box.height * points_per_pixel, 1.0),
    )


def _label_large_objects(
    ax: Axes, objects: tuple[SceneObject, ...], metres_per_point: float
) -> None:
    """Name an object on the map only where the name fits inside its footprint."""
    for obj in objects:
        footprint = _footprint(obj)
        span = footprint.max(axis=0) - footprint.min(axis=0)
        text_width = len(obj.category) * 0.6 * 8 * metres_per_point  # 8 pt, ~0.6 em/char
        if text_width < 0.9 * span.max() and 10 * metres_per_point < 0.9 * span.min():
            centre = footprint.mean(axis=0)
            rotate = 90 if span[1] > span[0] * 1.3 and text_width > 0.9 * span[0] else 0
            ax.text(
                *centre,
                obj.category,
                ha="center",
                va="center",
                fontsize=8,
                rotation=rotate,
                zorder=11,  # above the camera path: names matter more than path detail
                path_effects=OUTLINE,
            )


def _room_centre(scene: Scene) -> tuple[float, float]:
    provenance = scene.provenance
    x, y = provenance.get("room_center_x"), provenance.get("room_center_y")
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return float(x), float(y)
    centres = np.array([obj.box.center[:2] for obj in scene.objects] or [(0.0, 0.0)])
    return tuple(centres.mean(axis=0))


def _draw_opening(ax: Axes, polygon: np.ndarray, opening: Opening) -> None:
    start, end = polygon[opening.wall], polygon[(opening.wall + 1) % len(polygon)]
    direction = (end - start) / max(float(np.linalg.norm(end - start)), 1e-9)
    centre = start + direction * opening.offset
    a, b = centre - direction * opening.width / 2, centre + direction * opening.width / 2
    if opening.kind == "window":
        ax.plot(*zip(a, b, strict=True), color=WINDOW_COLOUR, lw=5, solid_capstyle="butt", zorder=3)
        return
    ax.plot(*zip(a, b, strict=True), color=FLOOR_COLOUR, lw=4, solid_capstyle="butt", zorder=3)
    inward = np.array([-direction[1], direction[0]])  # left of a counter-clockwise wall
    hinge_angle = math.degrees(math.atan2(direction[1], direction[0]))
    leaf_end = a + inward * opening.width
    ax.plot(*zip(a, leaf_end, strict=True), color=DOOR_COLOUR, lw=1.5, zorder=3)
    ax.add_patch(
        Arc(
            tuple(a),
            2 * opening.width,
            2 * opening.width,
            theta1=hinge_angle,
            theta2=hinge_angle + 90,
            color=DOOR_COLOUR,
            lw=1.0,
            ls="--",
            zorder=3,
        )
    )


def _draw_camera_path(ax: Axes, frames: tuple[Frame, ...]) -> list[Line2D]:
    positions = np.array([frame.position[:2] for frame in frames])
    cmap = matplotlib.colormaps[CAMERA_MAP]
    times = np.linspace(0.0, 0.85, len(frames))  # stop before plasma's pale yellow end
    if len(frames) > 1:
        segments = np.stack([positions[:-1], positions[1:]], axis=1)
        path = LineCollection(segments, colors=cmap(times[:-1]), lw=2.2, zorder=7)
        ax.add_collection(path)
    forward = np.array([frame.forward[:2] for frame in frames])
    norms = np.linalg.norm(forward, axis=1, keepdims=True)
    forward = np.divide(forward, norms, out=np.zeros_like(forward), where=norms > 1e-9)
    step = max(1, len(frames) // 32)
    arrows = slice(0, len(frames), step)
    ax.quiver(
        positions[arrows, 0],
        positions[arrows, 1],
        forward[arrows, 0],
        forward[arrows, 1],
        color=cmap(times[arrows]),
        angles="xy",
        scale_units="xy",
        scale=1 / 0.45,
        width=0.004,
        zorder=8,
    )
    ax.plot(*positions[0], marker="o", ms=9, color=cmap(0.0), mec="white", zorder=9)
    ax.plot(*positions[-1], marker="s", ms=8, color=cmap(0.85), mec="white", zorder=9)
    return [
        Line2D([], [], color=cmap(0.4), lw=2.2, label="camera path (dark = early)"),
        Line2D([], [], marker="o", ls="", color=cmap(0.0), ms=8, label="first frame"),
        Line2D([], [], marker="s", ls="", color=cmap(0.85), ms=7, label="last frame"),
    ]


def _label_frames(
    ax: Axes, frames: tuple[Frame, ...], shown: list[int], metres_per_point: float
) -> None:
    """Mark the contact-sheet frames on the path; number them where the label has room."""
    positions = np.array([frames[i].position[:2] for i in shown])
    ax.scatter(positions[:, 0], positions[:, 1], s=14, color="black", zorder=9, lw=0)
    placed: list[np.ndarray] = []
    min_gap = 16 * metres_per_point  # about two characters of 8 pt text
    for position, xy in zip(shown, positions, strict=True):
        if any(np.linalg.norm(xy - other) < min_gap for other in placed):
            continue
        placed.append(xy)
        ax.annotate(
            f"#{frames[position].index}",
            tuple(xy),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            fontweight="bold",
            zorder=10,
            path_effects=OUTLINE,
        )


def _pad_limits(ax: Axes, margin: float) -> None:
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    ax.set_xlim(x_low - margin, x_high + margin)
    ax.set_ylim(y_low - margin, y_high + margin)
