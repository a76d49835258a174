"""The numbers every rule is stated with, in one place.

The geometry library's defaults, the task templates' ambiguity margins and level bands, the
proposer's prompt and the verifier all read these constants, so a rule cannot say one thing
in the prompt and do another in a program (tests pin the prompt and the docs to them).
"""

from __future__ import annotations

#: Relative direction: an angle closer than this to a label boundary is too close to call.
DIRECTION_MARGIN_DEG = 10.0
#: Relative direction: the three objects' centres must be this far apart, pairwise (m) ...
DIRECTION_MIN_SEPARATION_M = 0.5
#: ... and no farther than this (m).
DIRECTION_MAX_SEPARATION_M = 8.0

#: Relative distance: choice distances closer than this are a near-tie (m), VSI-Bench's rule ...
REL_DISTANCE_MARGIN_M = 0.15
#: ... and in rooms larger than LARGE_ROOM_AREA_M2 this one (m).
REL_DISTANCE_MARGIN_LARGE_ROOM_M = 0.30
LARGE_ROOM_AREA_M2 = 40.0

#: Appearance order: first appearances closer in time than this are too close to call (s).
APPEARANCE_MIN_GAP_S = 1.0

#: "Clearly visible" in a frame: the object covers at least this share of the image ...
CLEAR_MIN_FRACTION = 0.003
#: ... and, when its 2D box is cut by the image border, at least this share.
CLEAR_CUT_MIN_FRACTION = 0.02

#: Route planning: heading changes below this read as going straight (deg).
ROUTE_MIN_TURN_DEG = 30.0
#: Route planning: a turn of this much or more is "turn back" (deg).
ROUTE_BACK_DEG = 135.0
#: Route planning: legs shorter than this are not walkable steps (m).
ROUTE_MIN_LEG_M = 0.5
#: Walking: distance kept from walls and furniture (m); a straight leg closer to an obstacle
#: than this is blocked.
WALK_CLEARANCE_M = 0.25
