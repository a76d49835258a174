"""Removing whatever tree a program left behind: any depth, any number of files, any modes.

`shutil.rmtree` recurses in Python and builds full paths, so a few thousand nested folders
overflow its recursion or PATH_MAX and it raises half-way. Here the walk is iterative and
works on directory descriptors (`dir_fd`), one level at a time: depth costs one name per
level, never a longer path or a deeper Python stack. Every function returns normally; what
could not be removed is reported, not raised. Standard library only: this folder ships into
remote sandboxes.
"""

from __future__ import annotations

import contextlib
import os
import stat

DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_PASSES = 4  # rescans of a folder whose listing changed while it was emptied


def _open_directory(name: str, dir_fd: int | None) -> int:
    """Open a folder for listing, making it listable first if the program locked it."""
    with contextlib.suppress(OSError):
        os.chmod(name, 0o700, dir_fd=dir_fd, follow_symlinks=False)
    return os.open(name, DIRECTORY_FLAGS, dir_fd=dir_fd)


def _open_top(path: str) -> int:
    """Open the folder to empty as it is (its mode is the caller's), unlocking it only if
    it cannot be listed (a run may have locked its own folder)."""
    try:
        return os.open(path, DIRECTORY_FLAGS)
    except PermissionError:
        return _open_directory(path, None)


def _first_subfolder_after_unlinking_files(fd: int) -> str | None:
    """Unlink every non-folder in the folder `fd`; return one subfolder's name, if any."""
    for _ in range(MAX_PASSES):
        subfolder = None
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    is_folder = stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode)
                except OSError:
                    is_folder = False
                if is_folder:
                    subfolder = entry.name
                    break
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.name, dir_fd=fd)
        if subfolder is not None:
            return subfolder
        with os.scandir(fd) as entries:
            if next(entries, None) is None:
                return None
    return None


def empty_folder(path: str) -> list[str]:
    """Remove everything inside `path`, keeping `path` itself; problems are returned."""
    problems: list[str] = []
    try:
        top = _open_top(path)
    except OSError as error:
        return [] if isinstance(error, FileNotFoundError) else [f"{path}: {error}"]
    names: list[str] = []  # the folder names from `path` down to the current one
    fd = top
    try:
        while True:
            try:
                subfolder = _first_subfolder_after_unlinking_files(fd)
            except OSError as error:
                problems.append(f"{path} (depth {len(names)}): {error}")
                subfolder = None
            if subfolder is not None:
                try:
                    child = _open_directory(subfolder, fd)
                except OSError as error:  # cannot enter it: rmdir below reports why
                    problems.append(f"{path} (depth {len(names) + 1}): {error}")
                else:
                    names.append(subfolder)
                    fd = child
                    continue
            if not names:
                break
            parent = os.open("..", DIRECTORY_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            try:
                os.rmdir(names.pop(), dir_fd=fd)
            except OSError as error:
                problems.append(f"{path} (depth {len(names) + 1}): {error}")
                break  # it stays; do not loop on it
    except OSError as error:
        problems.append(f"{path}: {error}")
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return problems


def remove_tree(path: str) -> list[str]:
    """Remove `path` and everything in it; a missing path is fine; problems are returned."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return []
    except FileNotFoundError:
        return []
    except OSError as error:
        return [f"{path}: {error}"]
    problems = empty_folder(path)
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        problems.append(f"{path}: {error}")
    return problems
