"""The `ouroboros` command line.

Each command group lives in its own module under `graphs/commands/`; registering a new
group is one line in `COMMAND_GROUPS` below. User mistakes (`UserError`) are printed as
one clear message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from scenes.errors import UserError

# name -> "module:attribute" of a typer.Typer (a group) or a plain function (a command).
COMMAND_GROUPS: dict[str, str] = {
    "scenes": "graphs.commands.scenes:app",
    "run": "graphs.commands.run:run",
    "propose": "graphs.commands.propose:propose",
    "eval": "graphs.commands.eval:app",
    "report": "graphs.commands.report:report",
}

app = typer.Typer(
    name="ouroboros",
    help="ouroboros-spatial: a self-evolving data loop for spatial reasoning in VLMs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    for name, target in COMMAND_GROUPS.items():
        module_name, attribute = target.split(":")
        obj = getattr(importlib.import_module(module_name), attribute)
        if isinstance(obj, typer.Typer):
            app.add_typer(obj, name=name)
        else:
            app.command(name=name)(obj)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    console = Console(stderr=True, soft_wrap=True)
    try:
        app(args=argv, standalone_mode=False)
    except UserError as error:
        console.print(f"[bold red]error:[/] {error}")
        return 2
    except FileExistsError as error:
        console.print(f"[bold red]error:[/] {error}")
        return 2
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130
    except typer.Exit as exit_:
        return int(exit_.exit_code or 0)
    except Exception as error:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(error, click.ClickException):
            error.show()
            return error.exit_code
        if isinstance(error, click.exceptions.Abort):
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
