"""The `ouroboros` command line.

Each command group lives in its own module under `graphs/commands/`; registering a new
group is one line in `COMMAND_GROUPS` below. User mistakes (`UserError`, and typer's own
usage errors) are printed as one line on stderr with exit code 2, never as a traceback;
Ctrl-C exits with 130 after saying so.
"""

from __future__ import annotations

import importlib
import sys

import typer
import typer._click as typer_click
from rich.console import Console

from common.errors import UserError
from graphs.interrupts import INTERRUPTED_EXIT_CODE, Interrupted

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
    """Console-script entry point: one error path for every user mistake.

    typer ships its own copy of click (`typer._click`), so usage errors are caught by that
    package's classes (the separate `click` package's would never match). In non-standalone
    mode typer turns Ctrl-C into a returned 130 instead of raising; that value is passed on.
    """
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    try:
        returned = app(args=argv, standalone_mode=False, prog_name="ouroboros")
    except (UserError, FileExistsError) as error:
        _error(console, str(error))
        return 2
    except typer_click.exceptions.NoArgsIsHelpError as error:
        Console(soft_wrap=True).print(error.format_message(), markup=False, highlight=False)
        return 2
    except typer_click.exceptions.ClickException as error:
        _error(console, _usage_message(error))
        return 2
    except Interrupted as stop:
        console.print(f"[yellow]interrupted:[/] {stop}", markup=True)
        return INTERRUPTED_EXIT_CODE
    except (KeyboardInterrupt, typer_click.exceptions.Abort):
        console.print("[yellow]interrupted[/]")
        return INTERRUPTED_EXIT_CODE
    except typer.Exit as exit_:
        return int(exit_.exit_code or 0)
    if returned == INTERRUPTED_EXIT_CODE:  # typer caught a KeyboardInterrupt itself
        console.print("[yellow]interrupted[/]")
        return INTERRUPTED_EXIT_CODE
    return returned if isinstance(returned, int) else 0


def _usage_message(error: typer_click.exceptions.ClickException) -> str:
    """'ouroboros run: No such option: --fo (Possible options: --force)' plus where to look."""
    message = " ".join(error.format_message().split())
    context = getattr(error, "ctx", None)
    if context is None:
        return message
    where = context.command_path
    return f"{where}: {message.rstrip('.')} (see '{where} --help')"


def _error(console: Console, message: str) -> None:
    console.print("[bold red]error:[/] ", end="")
    console.print(message, markup=False)


if __name__ == "__main__":
    sys.exit(main())
