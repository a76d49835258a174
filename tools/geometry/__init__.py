"""Geometry library for ground-truth programs: ``import geometry as g`` inside the sandbox.

Standalone on purpose (numpy, scipy, shapely and the standard library only; relative
imports only), because the sandbox uploads this folder as a top-level package.
"""

from __future__ import annotations

from .scene_view import Ambiguous, FrameView, Object3D, Opening, RoomView, SceneView

__all__ = ["Ambiguous", "FrameView", "Object3D", "Opening", "RoomView", "SceneView"]
