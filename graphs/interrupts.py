"""Ctrl-C as a user sees it: one line that says what stopped and how to continue."""

from __future__ import annotations

#: The conventional exit status of a process stopped by SIGINT (128 + 2).
INTERRUPTED_EXIT_CODE = 130


class Interrupted(Exception):
    """Raised by a command that caught Ctrl-C and knows how to continue (the message says how)."""
