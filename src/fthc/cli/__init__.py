"""The `fthc` command line: a thin layer over the library. Each command parses its options and calls a function of
`fthc.app` (or the library), then prints what it returns; the shared options are decorators (`options`), the
tables and lines are `printing`'s. Here: the group `main`, its error handling, and the commands registered on it
(`data_cmds`, `grid_cmds`, `segment_cmds`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from ..errors import FthcError
from ..app.quickstart import QUICK_GRID
from . import data_cmds, grid_cmds, segment_cmds
from .options import (COLUMN_FLAGS, KType, RegistryChoice, WindowParam, build_mapping, example, mapping_options,
                      precision_option, store_option)
from .printing import LOWER, affordability_line, console, print_segments, showing_progress


def _fail(exc: Exception) -> None:
    """One line, exit code 2; the message is printed as it is (its [brackets] are text, not Rich markup)."""
    console.print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
    sys.exit(2)


class FthcGroup(click.Group):
    """Turns fthc's own errors into one clear line and exit code 2, never a traceback; lists every command's
    whole summary in --help."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FthcError as exc:
            _fail(FthcError(_scrubbed(str(exc), ctx)))
        except OSError as exc:  # a user path that cannot be read or written: one line naming it
            _fail(FthcError(_scrubbed(f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc), ctx)))

    def main(self, *args, **kwargs):
        """A wrong option or value is one line naming it and the help to read, exit code 2 (click's own shows a
        usage block of four lines first)."""
        try:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "fthc"
            click.echo(f"error: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)

    def format_commands(self, ctx, formatter):
        rows = [(name, cmd.get_short_help_str(limit=500)) for name, cmd in
                ((n, self.get_command(ctx, n)) for n in self.list_commands(ctx)) if cmd is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _scrubbed(text: str, ctx) -> str:
    """An error's text without any secret of a store URL the command was given (--store, FTHC_STORE)."""
    import os

    from ..experiments.store.base import scrub

    urls = {os.environ.get("FTHC_STORE", "")}
    c = ctx
    while c is not None:
        urls |= {v for v in (c.params or {}).values() if isinstance(v, str) and "://" in v}
        c = getattr(c, "invoked_subcommand_context", None)
    for arg in ctx.args + sys.argv:
        if isinstance(arg, str) and "://" in arg:
            urls.add(arg.split("=", 1)[-1])
    for url in filter(None, urls):
        text = scrub(text, url)
    return text


@click.group(cls=FthcGroup)
@click.version_option(package_name="fthc")
@click.option("--threads", metavar="N", envvar="FTHC_THREADS", show_envvar=True,
              help="Threads for the whole command: independent fits side by side, DuckDB, Spark's local[N], "
                   "PyTorch [default: the CPUs this process may use].")
@click.pass_context
def main(ctx, threads) -> None:
    """Financial Transaction History Clustering: segment customers by their transaction histories."""
    from dotenv import load_dotenv

    import warnings

    from ..errors import FthcWarning
    from ..threads import thread_budget

    warnings.simplefilter("ignore", FthcWarning)  # the commands print every one as a note
    try:
        ctx.with_resource(thread_budget(threads))
    except FthcError as exc:
        _fail(exc)

    # MONGO_USERNAME / MONGO_PASSWORD and store URLs from the working folder's .env (not one found by searching
    # upward from wherever fthc is installed): the command's job, not the library's
    load_dotenv(Path.cwd() / ".env")


@main.group(cls=FthcGroup)
def data() -> None:
    """Generate and inspect data."""


for _command in data_cmds.COMMANDS:
    data.add_command(_command)
for _command in grid_cmds.COMMANDS + segment_cmds.COMMANDS:
    main.add_command(_command)
del _command

__all__ = ["COLUMN_FLAGS", "FthcGroup", "KType", "LOWER", "QUICK_GRID", "RegistryChoice",
           "WindowParam", "affordability_line", "build_mapping", "console", "data", "example", "main",
           "mapping_options", "precision_option", "print_segments", "showing_progress", "store_option"]
