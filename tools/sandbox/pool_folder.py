"""The host's folder of one local pool (library copy, worker logs, run folders without bwrap),
owned through a lock that dies with its host, so that a later pool can tell leftovers of a
SIGKILLed host from the folder of a live one and remove them.

A folder is created under a private name, locked (`flock` on `owner.lock`, held by an open
descriptor until the pool closes or its process dies) and only then renamed to its public
`ouroboros-sandbox-*` name, so a sweeper never sees a live folder without its lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

from .runtime.cleanup import remove_tree

POOL_PREFIX = "ouroboros-sandbox-"
CREATING_PREFIX = ".ouroboros-sandbox-creating-"
OWNER_LOCK = "owner.lock"


class PoolFolder:
    """A locked folder in the temporary directory; `release()` removes it and never raises."""

    def __init__(self, parent: str | None = None) -> None:
        parent = parent or tempfile.gettempdir()
        remove_stale_pool_folders(parent)
        creating = Path(tempfile.mkdtemp(prefix=CREATING_PREFIX, dir=parent))
        self._lock_fd: int | None = os.open(
            creating / OWNER_LOCK, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600
        )
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = Path(parent) / (POOL_PREFIX + creating.name[len(CREATING_PREFIX) :])
        os.rename(creating, self.path)
        os.chmod(self.path, 0o711)

    def release(self) -> list[str]:
        """Remove the folder (whatever a run left in it), then drop the lock."""
        problems = remove_tree(str(self.path))
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None
        return problems


def remove_stale_pool_folders(parent: str | None = None) -> list[Path]:
    """Remove pool folders whose host is gone (their lock is free); returns what was removed."""
    parent_path = Path(parent or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = list(parent_path.glob(POOL_PREFIX + "*"))
    except OSError:
        return removed
    for folder in candidates:
        with contextlib.suppress(OSError):
            if _is_stale(folder):
                remove_tree(str(folder))
                removed.append(folder)
    return removed


def _is_stale(folder: Path) -> bool:
    info = folder.lstat()
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.geteuid():
        return False
    try:
        fd = os.open(folder / OWNER_LOCK, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False  # no lock protocol (an older version's pool, maybe live): not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its host is alive and holds the lock
    finally:
        os.close(fd)  # closing drops our lock too: the folder is removed unlocked
    return True
