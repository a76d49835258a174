"""Shortest routes against closed forms, a brute-force visibility graph and a fine grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Polygon

from tools.geometry import (
    Ambiguous,
    SceneView,
    check_turn_margins,
    floor_outline,
    free_space,
    obstacles,
    shortest_path,
    shortest_route,
    turn_sequence,
)

ROOM_8X5 = [(0, 0), (8, 0), (8, 5), (0, 5)]


def all_vertex_visibility_length(region, start, goal) -> float:
    """Brute force: visibility graph over every boundary vertex, no pruning."""
    points = [np.asarray(start), np.asarray(goal)]
    for part in getattr(region, "geoms", [region]):
        for ring in [part.exterior, *part.interiors]:
            points.extend(np.asarray(ring.coords)[:-1])
    points = np.array(points)
    first, second = np.triu_indices(len(points), 1)
    lines = shapely.linestrings(np.stack([points[first], points[second]], axis=1))
    visible = shapely.covers(region.buffer(1e-7), lines)
    weights = np.zeros((len(points), len(points)))
    lengths = np.linalg.norm(points[first] - points[second], axis=1)
    weights[first[visible], second[visible]] = lengths[visible]
    return float(dijkstra(weights, directed=False, indices=0)[1])


def grid_length(region, start, goal, cell: float = 0.04) -> float:
    """Brute force: Dijkstra over an 8-connected occupancy grid of the region."""
    min_x, min_y, max_x, max_y = region.bounds
    xs, ys = np.meshgrid(np.arange(min_x, max_x + cell, cell), np.arange(min_y, max_y + cell, cell))
    free = shapely.contains_xy(region, xs, ys)
    index = np.arange(free.size).reshape(free.shape)
    rows, cols = free.shape
    heads, tails, weights = [], [], []
    for d_row, d_col in ((0, 1), (1, 0), (1, 1), (1, -1)):
        r, c = np.nonzero(free)
        r2, c2 = r + d_row, c + d_col
        inside = (r2 < rows) & (c2 >= 0) & (c2 < cols)
        r, c, r2, c2 = r[inside], c[inside], r2[inside], c2[inside]
        ok = free[r2, c2]
        heads.append(index[r[ok], c[ok]])
        tails.append(index[r2[ok], c2[ok]])
        weights.append(np.full(ok.sum(), cell * math.hypot(d_row, d_col)))
    from scipy.sparse import coo_matrix

    graph = coo_matrix(
        (np.concatenate(weights), (np.concatenate(heads), np.concatenate(tails))),
        shape=(free.size, free.size),
    )
    free_cells = np.flatnonzero(free)
    centers = np.stack([xs.ravel()[free_cells], ys.ravel()[free_cells]], axis=1)
    source = free_cells[np.argmin(np.linalg.norm(centers - start, axis=1))]
    target = free_cells[np.argmin(np.linalg.norm(centers - goal, axis=1))]
    return float(dijkstra(graph.tocsr(), directed=False, indices=source)[target])


def test_straight_route_and_initial_turns(make_scene_dict) -> None:
    view = SceneView(
        make_scene_dict(
            objects=[
                (1, "bed", (1, 2, 0.3), (0.6, 0.6, 0.6)),
                (2, "sofa", (5, 2, 0.4), (0.6, 0.6, 0.8)),
                (3, "tv", (3, 3.9, 1.2), (1, 0.1, 0.6)),
            ]
        )
    )
    bed, sofa = view.object(1), view.object(2)
    route = shortest_route(view, bed, sofa, facing=sofa)
    assert route.length_m == pytest.approx(4.0)
    assert route.turns == ("go forward",)
    assert shortest_route(view, bed, sofa, facing=(0.0, 2.0)).turns == ("turn back", "go forward")
    assert shortest_route(view, bed, sofa, facing=(1.0, 0.0)).turns == ("turn left", "go forward")
    assert shortest_route(view, bed, sofa, facing=view.object(3)).turn_words() == ["turn right"]


def test_detour_around_a_wall_matches_closed_form(make_scene_dict) -> None:
    # A 0.2 m thick shelf from the bottom wall up to y = 3 splits the room; clearance 0.25.
    view = SceneView(
        make_scene_dict(
            objects=[
                (1, "chair", (1, 1, 0.4), (0.5, 0.5, 0.8)),
                (2, "sofa", (5, 1, 0.4), (0.8, 0.5, 0.8)),
                (3, "shelf", (3, 1.5, 1), (0.2, 3, 2)),
            ]
        )
    )
    route = shortest_route(view, view.object(1), view.object(2), facing=view.object(2))
    # Tangent to the rounded corner (radius 0.25 at (2.9, 3)), arc, 0.2 m across, and back.
    radius, corner = 0.25, np.array([2.9, 3.0])
    reach = np.linalg.norm(corner - [1, 1])
    tangent = math.sqrt(reach**2 - radius**2)
    arc = math.atan2(2.0, 1.9) + math.asin(radius / reach)
    exact = 2 * tangent + 0.2 + 2 * radius * arc
    # Polygonised corners lie inside the true circles: never longer, shorter by < 5 mm.
    assert exact - 0.005 < route.length_m <= exact + 1e-9
    assert route.turns == ("turn left", "go forward", "turn right", "go forward")
    assert route.landmarks == ("shelf", "sofa")
    assert route.turn_angles_deg[0] == pytest.approx(math.degrees(arc), abs=2.5)


def test_l_shaped_room_bends_round_the_inner_corner(make_scene_dict) -> None:
    polygon = [(0, 0), (6, 0), (6, 2), (2, 2), (2, 6), (0, 6)]
    view = SceneView(
        make_scene_dict(
            floor_polygon=polygon,
            objects=[
                (1, "desk", (5, 1, 0.4), (0.6, 0.6, 0.8)),
                (2, "bed", (1, 5, 0.3), (0.6, 0.6, 0.6)),
            ],
        )
    )
    # Walking west along the lower arm, the upper arm is to the right.
    route = shortest_route(view, view.object(1), view.object(2), facing=(0.0, 1.0))
    assert route.turns == ("go forward", "turn right", "go forward")
    # The inner corner (2, 2) is kept at the 0.25 m clearance: the route hugs that arc.
    assert np.linalg.norm(route.waypoints - [2.0, 2.0], axis=1).min() == pytest.approx(
        0.25, abs=0.005
    )
    assert turn_sequence(np.array([[0, 0], [1, 0], [1, 1]]), (1, 0))[0] == [
        "go forward",
        "turn left",
        "go forward",
    ]


def test_random_rooms_match_brute_force_references(make_scene_dict) -> None:
    rng = np.random.default_rng(1)
    compared = gridded = 0
    for _ in range(12):
        objects = [
            (1, "start", (0.6, rng.uniform(0.6, 4.4), 0.4), (0.4, 0.4, 0.8)),
            (2, "goal", (7.4, rng.uniform(0.6, 4.4), 0.4), (0.4, 0.4, 0.8)),
        ]
        for i in range(5):
            objects.append(
                (
                    3 + i,
                    f"thing{i}",
                    (*rng.uniform([1.5, 0.5], [6.5, 4.5]), 0.5),
                    rng.uniform([0.3, 0.3, 1.0], [1.5, 1.5, 1.0]),
                    rng.uniform(0, 90),
                )
            )
        view = SceneView(make_scene_dict(floor_polygon=ROOM_8X5, objects=objects))
        start, goal = view.object(1), view.object(2)
        region = free_space(view, exclude=(start, goal))
        if not (
            region.covers(shapely.Point(start.center[:2]))
            and region.covers(shapely.Point(goal.center[:2]))
        ):
            continue
        brute = all_vertex_visibility_length(region, start.center[:2], goal.center[:2])
        if not np.isfinite(brute):
            with pytest.raises(Ambiguous):
                shortest_route(view, start, goal)
            continue
        route = shortest_route(view, start, goal)
        assert route.length_m == pytest.approx(brute, abs=1e-9)
        assert route.length_m >= np.linalg.norm(start.center[:2] - goal.center[:2]) - 1e-9
        # A fine 8-connected grid overestimates by at most the octile factor (plus snapping).
        grid = grid_length(region, start.center[:2], goal.center[:2])
        assert route.length_m <= grid + 0.06  # never longer than a brute-force grid walk
        gridded += np.isfinite(grid)
        compared += 1
    assert compared >= 6 and gridded >= 4


def test_enclosed_goal_is_ambiguous(make_scene_dict) -> None:
    walls = [
        (3 + i, "shelf", c, e)
        for i, (c, e) in enumerate(
            [
                ((4, 3.0, 1), (2, 0.1, 2)),
                ((4, 1.0, 1), (2, 0.1, 2)),
                ((3, 2, 1), (0.1, 2, 2)),
                ((5, 2, 1), (0.1, 2, 2)),
            ]
        )
    ]
    view = SceneView(
        make_scene_dict(
            floor_polygon=ROOM_8X5,
            objects=[
                (1, "bed", (1, 1, 0.3), (0.5, 0.5, 0.6)),
                (2, "safe", (4, 2, 0.3), (0.3, 0.3, 0.6)),
                *walls,
            ],
        )
    )
    with pytest.raises(Ambiguous):
        shortest_route(view, view.object(1), view.object(2))


def test_obstacle_rule(make_scene_dict) -> None:
    view = SceneView(
        make_scene_dict(
            objects=[
                (1, "table", (2, 2, 0.4), (1, 1, 0.8)),
                (2, "picture", (0.05, 2, 1.8), (0.05, 0.8, 0.5)),  # hangs above 1.5 m
                (3, "rug", (4, 2, 0.01), (2, 1.5, 0.02)),
                (4, "book", (5, 1, 0.05), (0.2, 0.3, 0.1)),  # lower than 0.15 m
                (5, "door", (6, 2, 1.0), (0.1, 0.9, 2.0)),
            ]
        )
    )
    assert [o.category for o in obstacles(view)] == ["table"]
    assert [o.category for o in obstacles(view, exclude=[view.object(1)])] == []


def test_turn_margin_check(make_scene_dict) -> None:
    view = SceneView(
        make_scene_dict(
            objects=[
                (1, "bed", (1, 2, 0.3), (0.6, 0.6, 0.6)),
                (2, "sofa", (5, 2, 0.4), (0.6, 0.6, 0.8)),
            ]
        )
    )
    bed, sofa = view.object(1), view.object(2)
    near_back = (
        1 - math.cos(math.radians(40)),
        2 - math.sin(math.radians(40)),
    )  # first turn 140 deg
    route = shortest_route(view, bed, sofa, facing=near_back)
    assert route.turns[0] == "turn back"
    with pytest.raises(Ambiguous):
        check_turn_margins(route)
    check_turn_margins(shortest_route(view, bed, sofa, facing=(1.0, 0.0)))  # a clean 90 degrees


def test_shortest_path_direct_and_real_rooms(vsibench_scene_dicts) -> None:
    square = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)])
    assert np.allclose(
        shortest_path(square, np.array([1.0, 1.0]), np.array([3.0, 2.0])), [[1, 1], [3, 2]]
    )
    routed = 0
    rooms = 0
    for data in vsibench_scene_dicts.values():
        view = SceneView(data)
        uniques = view.unique_categories()
        if len(uniques) < 2:
            continue
        rooms += 1
        start, goal = view.unique(uniques[0]), view.unique(uniques[1])
        try:
            route = shortest_route(view, start, goal)
        except Ambiguous:
            continue
        routed += 1
        assert route.length_m >= np.linalg.norm(start.center[:2] - goal.center[:2]) - 1e-9
        assert floor_outline(view).buffer(1e-6).covers(shapely.LineString(route.waypoints))
    assert routed >= rooms * 0.6  # cluttered ScanNet rooms may leave no 0.5 m wide passage
