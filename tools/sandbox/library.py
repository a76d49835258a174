"""The files a sandbox ships to where programs run: the geometry package and the runtime.

Local workers and remote sandboxes both import exactly these two top-level packages from one
library folder, `geometry` (what programs use) and `sandbox_runtime` (the worker), so the
code that runs next to a program is the same everywhere and the project's own source tree is
never on the program's import path.
"""

from __future__ import annotations

import os
from pathlib import Path

SANDBOX_DIR = Path(__file__).resolve().parent
GEOMETRY_DIR = SANDBOX_DIR.parent / "geometry"
RUNTIME_DIR = SANDBOX_DIR / "runtime"
RUNTIME_PACKAGE = "sandbox_runtime"

# `python -I -B -c BOOTSTRAP LIBRARY_DIR ARGS...`: isolated mode ignores PYTHON* variables
# and the user's site-packages; the library folder is the only addition to the path.
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    f"from {RUNTIME_PACKAGE}.worker import main; main(sys.argv[2:])"
)


def library_files() -> dict[str, bytes]:
    """Relative path -> content for every module of the two packages."""
    files: dict[str, bytes] = {}
    for package_dir, name in ((GEOMETRY_DIR, "geometry"), (RUNTIME_DIR, RUNTIME_PACKAGE)):
        if not (package_dir / "__init__.py").is_file():
            raise FileNotFoundError(f"{package_dir} is not a Python package")
        for path in sorted(package_dir.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(package_dir).as_posix()
            files[f"{name}/{relative}"] = path.read_bytes()
    return files


def stage_library(destination: Path) -> Path:
    """Write the library into `destination`, readable by everyone and writable by the owner."""
    destination.mkdir(parents=True, exist_ok=True)
    os.chmod(destination, 0o755)
    for relative, content in library_files().items():
        target = destination / relative
        for parent in reversed(target.relative_to(destination).parents[:-1]):
            folder = destination / parent
            folder.mkdir(exist_ok=True)
            os.chmod(folder, 0o755)
        target.write_bytes(content)
        os.chmod(target, 0o644)
    return destination


def worker_command(python: str, library_dir: str | Path, *arguments: str) -> list[str]:
    return [python, "-I", "-B", "-c", BOOTSTRAP, str(library_dir), *arguments]
