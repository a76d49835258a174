"""The README's command-line section runs as written, at reduced sizes, from a clean folder.

Commands are taken from the README itself (the first bash block under "The command
line"); each size option is shrunk by a substitution that must match, so editing the
README either keeps this test honest or fails it. They run through the installed
`ouroboros` script in an empty folder that holds only `examples/` (as a fresh clone
would), with `shared/` beside it (as CI lays it out), and everything they write must land
under `runs/`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.graphs.cli_process import REPO, run_cli
from tests.graphs.loop_settings import TINY_LOOP

SMALL_SCENES = "--frames 8 --width 64 --height 48"
#: (pattern, replacement): what CI changes in a README command to make it small.
SHRINK: list[tuple[str, str]] = [
    (r"^scenes generate --num 4 ", f"scenes generate --num 2 {SMALL_SCENES} "),
    (r"--num 200 ", "--num 12 --workers 1 "),
    (r"^run (--preset cpu-tiny --out \S+) loop\.iterations=3$",
     r"run \1 " + " ".join(TINY_LOOP) + " loop.iterations=1"),
    (r"^eval build-procspatial (--out \S+) --size 200$",
     r"eval build-procspatial \1 --size 12 --num-scenes 2 --frames 8 --width 64 --height 48 "
     "--question-frames 2 --workers 1"),
]  # fmt: skip


def readme_commands() -> list[str]:
    """The `ouroboros ...` lines of the README's first bash block after '## The command line'."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The command line") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None, "the README's command-line section has no bash block"
    joined = block.group(1).replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        line = line.split("  #")[0].strip()
        if line.startswith("ouroboros "):
            commands.append(line.removeprefix("ouroboros "))
    return commands


def shrink(commands: list[str]) -> list[str]:
    used = [0] * len(SHRINK)
    out = []
    for command in commands:
        for index, (pattern, replacement) in enumerate(SHRINK):
            command, count = re.subn(pattern, replacement, command)
            used[index] += count
        out.append(command)
    unused = [SHRINK[i][0] for i, n in enumerate(used) if n == 0]
    assert not unused, f"README changed: these size substitutions no longer match: {unused}"
    return out


def test_readme_commands_are_found_and_write_only_under_runs() -> None:
    commands = readme_commands()
    assert len(commands) >= 9
    assert [c.split()[0] for c in commands[:3]] == ["scenes"] * 3
    for command in commands:
        for flag in ("--out", "--scenes", "--data", "--resume", "--model"):
            words = shlex.split(command)
            if flag in words:
                target = words[words.index(flag) + 1]
                assert target.startswith(("runs/", "examples/")), (command, flag, target)
        sources = [w for w in shlex.split(command)[4:5] if command.startswith("scenes import")]
        assert all(w.startswith(("examples/", "../shared/")) for w in sources), command
    assert any(c.startswith("report runs/") for c in commands)


@pytest.mark.slow
def test_readme_command_line_section_runs_as_written(tmp_path: Path, shared_data_dir: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "examples").symlink_to(REPO / "examples", target_is_directory=True)
    (tmp_path / "shared").symlink_to(shared_data_dir.resolve().parent, target_is_directory=True)
    for command in shrink(readme_commands()):
        result = run_cli(*shlex.split(command), cwd=clone, timeout=900)
        assert result.returncode == 0, f"ouroboros {command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
    runs = clone / "runs"
    assert sorted(p.name for p in clone.iterdir()) == ["examples", "runs"]
    assert len([p for p in (runs / "scenes").iterdir() if p.is_dir()]) == 2
    assert len(list((runs / "real-sample").iterdir())) == 2
    assert len(list((runs / "real").iterdir())) == 88
    assert (runs / "preview.png").stat().st_size > 1000
    assert (runs / "samples.parquet").exists()
    demo = runs / "demo"
    assert (demo / "report.html").exists()
    train = (demo / "iterations" / "000" / "train.json").read_text()
    assert '"num_samples"' in train and '"skipped"' not in train  # the demo trains something
    assert (demo / "solver" / "latest" / "config.json").exists()
    for name in ("before", "after"):
        assert (runs / "eval" / name / "results.json").exists()


def test_make_run_ends_by_saying_how_to_call_ouroboros() -> None:
    """After `make run` the virtualenv is not active: the last step says how to reach the CLI
    (the run itself prints the run folder and the report command: tests/graphs/test_cli.py)."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make not installed")
    planned = subprocess.run(
        ["make", "-n", "run", "OUT=runs/x"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    run_line = next(i for i, line in enumerate(planned) if "ouroboros run" in line)
    after = " ".join(planned[run_line + 1 :])
    assert ".venv/bin/ouroboros" in after and "source .venv/bin/activate" in after
