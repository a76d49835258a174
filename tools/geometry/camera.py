"""Camera motion between two frames, for viewpoint and ego-motion questions.

Poses are camera-to-world with OpenCV axes (+x right, +y down, +z forward) in a +z-up
world. Turning and walking are described in the first camera's *level* frame: forward is
its viewing direction projected on the floor, left is 90 degrees counter-clockwise from
it (seen from above), up is world +z. So a camera that looks down at the floor and walks
ahead still "moves forward", as a person would say. The raw displacement in the first
camera's own axes is given too (``translation_camera``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scene_view import Ambiguous, FrameView

_LEVEL_EPS = 1e-6


def camera_heading(frame: FrameView) -> float:
    """Compass angle (deg, (-180, 180]) of the viewing direction on the floor, from world +x
    counter-clockwise. A camera looking straight down uses the image's up direction."""
    return math.degrees(math.atan2(*_level_forward(frame)[::-1]))


def camera_pitch(frame: FrameView) -> float:
    """Elevation (deg) of the viewing direction above the horizontal: + looks up."""
    return math.degrees(math.asin(float(np.clip(frame.forward[2], -1.0, 1.0))))


def _level_forward(frame: FrameView) -> np.ndarray:
    forward = frame.forward[:2]
    if np.linalg.norm(forward) < _LEVEL_EPS:
        forward = -frame.rotation[:2, 1]  # image up (-y) when looking straight down or up
    norm = np.linalg.norm(forward)
    if norm < _LEVEL_EPS:
        raise Ambiguous(f"frame {frame.index} has no horizontal heading")
    return forward / norm


def _signed_angle_deg(from_deg: float, to_deg: float) -> float:
    return (to_deg - from_deg + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class CameraMotion:
    """How the camera moved from frame A to frame B (metres, degrees)."""

    yaw_deg: float  # heading change about world +z; + = turned left (counter-clockwise)
    pitch_deg: float  # change of elevation; + = tilted up
    rotation_deg: float  # total rotation angle between the two orientations (>= 0)
    forward_m: float  # displacement along A's level forward (negative = backward)
    left_m: float  # displacement to A's left (negative = right)
    up_m: float  # displacement along world +z (negative = down)
    translation_camera: tuple[float, float, float]  # in A's own axes: x right, y down, z forward

    @property
    def distance_m(self) -> float:
        return math.sqrt(self.forward_m**2 + self.left_m**2 + self.up_m**2)

    def turn_direction(self, min_deg: float = 5.0) -> str:
        """'left' or 'right'; Ambiguous when the heading changed by less than ``min_deg``."""
        if abs(self.yaw_deg) < min_deg:
            raise Ambiguous(f"camera turned only {self.yaw_deg:.1f} deg")
        return "left" if self.yaw_deg > 0 else "right"

    def main_direction(self, min_ratio: float = 1.5, min_m: float = 0.1) -> str:
        """Dominant displacement: forward, backward, left, right, up or down.

        Ambiguous when the camera moved less than ``min_m`` or the largest component is
        not at least ``min_ratio`` times the second largest.
        """
        components = {
            ("forward", "backward"): self.forward_m,
            ("left", "right"): self.left_m,
            ("up", "down"): self.up_m,
        }
        ranked = sorted(components.items(), key=lambda item: abs(item[1]), reverse=True)
        (names, value), (_, second) = ranked[0], ranked[1]
        if abs(value) < min_m or abs(value) < min_ratio * abs(second):
            raise Ambiguous(f"no dominant movement: {dict((n[0], round(v, 3)) for n, v in ranked)}")
        return names[0] if value > 0 else names[1]


def camera_motion(frame_a: FrameView, frame_b: FrameView) -> CameraMotion:
    """Rotation and translation taking the camera of ``frame_a`` to that of ``frame_b``."""
    forward = _level_forward(frame_a)
    left = np.array([-forward[1], forward[0]])
    displacement = frame_b.position - frame_a.position
    relative_rotation = frame_a.rotation.T @ frame_b.rotation
    cosine = float(np.clip((np.trace(relative_rotation) - 1.0) / 2.0, -1.0, 1.0))
    in_camera = frame_a.rotation.T @ displacement
    return CameraMotion(
        yaw_deg=_signed_angle_deg(camera_heading(frame_a), camera_heading(frame_b)),
        pitch_deg=camera_pitch(frame_b) - camera_pitch(frame_a),
        rotation_deg=math.degrees(math.acos(cosine)),
        forward_m=float(displacement[:2] @ forward),
        left_m=float(displacement[:2] @ left),
        up_m=float(displacement[2]),
        translation_camera=(float(in_camera[0]), float(in_camera[1]), float(in_camera[2])),
    )
