"""Running the installed `ouroboros` console script in a subprocess, as a user would.

The script sits next to the interpreter running the tests (`.venv/bin/ouroboros`), and
the subprocess imports this checkout's code (PYTHONPATH and cwd), not an installed copy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def ouroboros_script() -> str:
    script = Path(sys.executable).parent / "ouroboros"
    if not script.exists():
        raise FileNotFoundError(
            f"{script} not found: install the project into this environment (pip install -e .)"
        )
    return str(script)


def cli_env(**extra: str) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO),
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",  # a shared 2-core machine: torch's pool would spin-wait
        "COLUMNS": "80",
        **extra,
    }


def run_cli(
    *args: str, cwd: Path = REPO, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ouroboros_script(), *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(*args: str, cwd: Path = REPO) -> subprocess.Popen[str]:
    """A CLI process in its own process group with SIGINT at its default (a terminal's Ctrl-C
    reaches the whole group; a shell's background job would otherwise ignore SIGINT)."""
    return subprocess.Popen(
        [ouroboros_script(), *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
