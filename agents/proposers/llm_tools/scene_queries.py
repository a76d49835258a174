"""Scene query tools: what is in the room, where, how big, how far apart, seen from where.

Each function is one tool: its signature is the argument schema and its docstring is the
documentation the model reads. They answer in short plain text with metres and degrees.
"""

from __future__ import annotations

import math

from langchain.tools import ToolRuntime

import tools.geometry as g
from agents.proposers.llm_tools.context import ToolContext, ToolError, fmt, fmt_vec
from tools.geometry.rules import WALK_CLEARANCE_M


def list_categories(runtime: ToolRuntime[ToolContext]) -> str:
    """List every object category in the room with its count, marking the unique ones.

    A category is unique when it names exactly one object, so a question can say "the X".
    """
    view = runtime.context.view
    lines = [f"{len(view.objects)} objects in {len(view.categories())} categories:"]
    for category, count in view.counts().items():
        mark = " (unique)" if view.is_unique(category) else ""
        lines.append(f"- {category}: {count}{mark}")
    return "\n".join(lines)


def list_objects(runtime: ToolRuntime[ToolContext], category: str | None = None) -> str:
    """List objects with instance id, centre (x, y, z) and longest side, in metres.

    Lists at most 60 objects (then says how many more; pass a category to narrow it).

    Args:
        category: Only objects of this category (lower-case, e.g. "chair"); all when omitted.
    """
    context = runtime.context
    view = context.view
    if category is not None:
        objects = view.objects_of(category)
        if not objects:
            raise ToolError(
                f"no objects of category {category!r}; categories are {', '.join(view.categories())}"
            )
    else:
        objects = sorted(view.objects, key=lambda o: o.instance_id)
    limit = context.settings.max_list_items
    lines = [
        f"id {o.instance_id}: {o.category} at {fmt_vec(o.center)}, longest side {fmt(o.size)} m"
        for o in objects[:limit]
    ]
    if len(objects) > limit:
        lines.append(f"... and {len(objects) - limit} more; pass a category to narrow the list")
    return "\n".join(lines)


def describe_object(instance_id: int, runtime: ToolRuntime[ToolContext]) -> str:
    """Describe one object: category, box (centre, extents, yaw), height range, visibility.

    Args:
        instance_id: The object's instance id (see list_objects).
    """
    context = runtime.context
    obj = context.object(instance_id)
    view = context.view
    yaw = math.degrees(math.atan2(obj.rotation[1, 0], obj.rotation[0, 0]))
    lines = [
        f"id {obj.instance_id}: {obj.category}"
        + (" (unique in the room)" if view.is_unique(obj.category) else ""),
        f"centre {fmt_vec(obj.center)} m; extents {fmt_vec(obj.extents)} m; yaw {fmt(yaw, 1)} deg",
        f"longest side {fmt(obj.size)} m ({round(obj.size * 100)} cm); "
        f"from z={fmt(obj.bottom_z)} to z={fmt(obj.top_z)} m",
    ]
    if obj.support is not None:
        lines.append(f"rests on instance {obj.support}")
    if view.frames:
        shown = view.frames_showing(obj)
        first = g.first_appearance(view, obj)
        clear = (
            "never clearly visible" if first is None else f"first clearly visible in frame {first}"
        )
        lines.append(
            f"visible in {len(shown)} of {len(view.frames)} frames; {clear}"
            if shown
            else "never visible in the camera frames"
        )
    return "\n".join(lines)


def measure_between(instance_a: int, instance_b: int, runtime: ToolRuntime[ToolContext]) -> str:
    """Measure two objects: closest-point and centre distances, height gap, direction of B.

    Args:
        instance_a: Instance id of the first object.
        instance_b: Instance id of the second object.
    """
    context = runtime.context
    a, b = context.object(instance_a), context.object(instance_b)
    if a.instance_id == b.instance_id:
        raise ToolError("instance_a and instance_b are the same object; pass two different ids")
    bearing = math.degrees(math.atan2(b.center[1] - a.center[1], b.center[0] - a.center[0]))
    return "\n".join(
        [
            f"{a.category} (id {a.instance_id}) to {b.category} (id {b.instance_id}):",
            f"closest-point distance {fmt(g.box_distance(a, b))} m "
            f"(VSI-Bench absolute distance); centre distance {fmt(g.center_distance(a, b))} m",
            f"horizontal centre distance "
            f"{fmt(float(math.hypot(*(b.center[:2] - a.center[:2]))))} m; "
            f"B's centre is {fmt(float(b.center[2] - a.center[2]))} m higher",
            f"bearing of B from A: {fmt(bearing, 1)} deg (counter-clockwise from world +x)",
        ]
    )


def room_info(runtime: ToolRuntime[ToolContext]) -> str:
    """Describe the room: floor area, height, floor outline, doors and windows, frames."""
    context = runtime.context
    view = context.view
    room = view.room
    polygon = ", ".join(fmt_vec(p) for p in room.floor_polygon) or "not published"
    lines = [
        f"scene {view.id} (source {view.source})",
        f"floor area {fmt(g.floor_area(view), 1)} m^2 (the room_size_estimation answer); "
        f"height {fmt(room.height)} m",
        f"floor outline (x, y): {polygon}",
    ]
    for opening in room.openings:
        lines.append(
            f"{opening.kind} on wall {opening.wall}, {fmt(opening.width)} m wide, "
            f"{fmt(opening.height)} m tall"
        )
    if view.frames:
        duration = view.frames[-1].timestamp - view.frames[0].timestamp
        lines.append(
            f"{len(view.frames)} camera frames (indices {view.frames[0].index}.."
            f"{view.frames[-1].index}) over {fmt(duration, 1)} s"
        )
    else:
        lines.append("no camera frames (metadata-only scene)")
    return "\n".join(lines)


def frames_showing(instance_id: int, runtime: ToolRuntime[ToolContext], min_pixels: int = 1) -> str:
    """List the frames in which an object is visible: its share of the image, 2D box, and
    whether it is cut by the image border or clearly visible.

    "Clearly visible" is the one rule grounding, appearance order and first appearance use:
    at least 0.3 % of the image, or 2 % when the object's box touches the image border.
    Lists at most 60 frames (then summarises).

    Args:
        instance_id: The object's instance id.
        min_pixels: Only frames where it covers at least this many pixels.
    """
    context = runtime.context
    obj = context.object(instance_id)
    if not context.view.frames:
        raise ToolError(f"scene {context.scene.id} has no camera frames")
    shown = context.view.frames_showing(obj, max(int(min_pixels), 1))
    if not shown:
        return f"{obj.category} (id {obj.instance_id}) is not visible in any frame"
    limit = context.settings.max_list_items
    cells = [frame_visibility(context.view.frame(i), obj.instance_id) for i in shown[:limit]]
    more = f"\n... and {len(shown) - limit} more frames" if len(shown) > limit else ""
    first = g.first_appearance(context.view, obj)
    clear = (
        f"first clearly visible in frame {first}"
        if first is not None
        else "never clearly visible (only slivers or cut-off parts)"
    )
    return (
        f"{obj.category} (id {obj.instance_id}) in {len(shown)} frames; {clear}:\n"
        + "\n".join(cells)
        + more
    )


def frame_visibility(frame: g.FrameView, instance_id: int) -> str:
    """One frame's line: pixels, share of the image, 2D box, cut and clearly-visible flags."""
    box = frame.box(instance_id)
    where = f", box x {box[0]}-{box[2]}, y {box[1]}-{box[3]}" if box is not None else ""
    flags = [
        "clearly visible" if frame.clearly_visible(instance_id) else "not clearly visible",
        *(["cut by the image border"] if frame.is_cut(instance_id) else []),
    ]
    return (
        f"frame {frame.index}: {frame.pixels(instance_id)} px "
        f"({100 * frame.fraction(instance_id):.1f}% of the image{where}); {', '.join(flags)}"
    )


def check_route_leg(from_instance: int, to_instance: int, runtime: ToolRuntime[ToolContext]) -> str:
    """Say whether walking straight from one object's centre to another's is blocked.

    Route planning walks straight legs ("go forward until the X"); a leg passing within
    0.25 m of floor-standing furniture (not its own two ends) is blocked, and a route with a
    blocked leg is rejected as ambiguous. Also gives the obstacle-avoiding walk's length.

    Args:
        from_instance: Instance id of the object the leg starts at.
        to_instance: Instance id of the object the leg goes to.
    """
    context = runtime.context
    a, b = context.object(from_instance), context.object(to_instance)
    if a.instance_id == b.instance_id:
        raise ToolError("from_instance and to_instance are the same object; pass two ids")
    clearance = WALK_CLEARANCE_M
    blockers = g.blocking_objects(context.view, a, b, clearance)
    straight = f"straight {fmt(float(math.hypot(*(b.center[:2] - a.center[:2]))))} m"
    try:
        route = g.shortest_route(context.view, a, b, clearance=clearance)
        detour = f"; the shortest walk around obstacles is {fmt(route.length_m)} m"
    except g.Ambiguous as error:
        detour = f"; no walkable route at {clearance} m clearance ({error})"
    if not blockers:
        return f"{a.category} (id {a.instance_id}) to {b.category} (id {b.instance_id}): clear ({straight}{detour})"
    names = ", ".join(f"{o.category} (id {o.instance_id})" for o in blockers[:5])
    return (
        f"{a.category} (id {a.instance_id}) to {b.category} (id {b.instance_id}): BLOCKED by "
        f"{names} ({straight}{detour}); pick other stops for a route_planning question"
    )


def camera_pose(frame_index: int, runtime: ToolRuntime[ToolContext]) -> str:
    """Give a frame's camera: time, position, heading and pitch, and the objects in view.

    Heading is the compass angle of the viewing direction, counter-clockwise from world +x.

    Args:
        frame_index: The frame's index in the video.
    """
    context = runtime.context
    frame = context.frame(frame_index)
    try:
        heading = f"{fmt(g.camera_heading(frame), 1)} deg"
    except g.Ambiguous:
        heading = "undefined (looking straight up or down)"
    visible = sorted(frame.visible.items(), key=lambda item: -item[1])
    in_view = ", ".join(
        f"{context.view.object(i).category} (id {i}, {n} px"
        f"{', cut by the border' if frame.is_cut(i) else ''}"
        f"{'' if frame.clearly_visible(i) else ', not clearly visible'})"
        for i, n in visible[: context.settings.max_list_items]
        if i in {o.instance_id for o in context.view.objects}
    )
    return "\n".join(
        [
            f"frame {frame.index} at t={fmt(frame.timestamp)} s",
            f"camera position {fmt_vec(frame.position)} m; heading {heading}; "
            f"pitch {fmt(g.camera_pitch(frame), 1)} deg",
            f"in view: {in_view or 'no objects'}",
        ]
    )
