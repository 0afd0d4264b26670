"""The paper's experiment grid: `fthc init-db`, `run`, `status`, `reset`, `export` and `report`."""

from __future__ import annotations

from pathlib import Path

import click

from .options import mapping_options, precision_option, store_option
from .printing import console, print_status, showing_progress


@click.command("init-db")
@store_option
@click.option("--grid", "grid_file", type=click.Path(path_type=Path), help="TOML file overriding the paper's grid.")
@mapping_options
def init_db(store_url, grid_file, mapping, lenient) -> None:
    """Write the grid of configurations and their runs into the store (adds only what is missing). Mapping
    flags are stored with the grid, so that every worker reads a transaction table the same way."""
    from ..app.grid_jobs import init_grid

    r = init_grid(store_url, grid_file, mapping, lenient)
    console.print(f"{r['store']}: {r['added']} configurations added, {r['existing']} already present "
                  f"({r['configurations']} in the grid, {r['skipped']} skipped as incompatible), {r['runs']} runs each")


@click.command("run")
@store_option
@click.option("--data", type=click.Path(path_type=Path), help="Berka folder or transaction table (default: synthetic).")
@click.option("--workers", type=click.IntRange(1),
              help="Worker processes [default: one per core, each with one thread; with N workers each gets "
                   "cores/N threads].")
@click.option("--max-runs", type=click.IntRange(1), help="Stop after this many runs (per worker).")
@click.option("--only", help="Filter configurations, e.g. autoencoder=fcnn,k=2|4")
@precision_option
def run_cmd(store_url, data, workers, max_runs, only, precision) -> None:
    """Claim and run pending runs until the grid is done (resumable; any number of workers and machines)."""
    from ..app.default_data import default_data
    from ..experiments.parallel import run_workers

    run_workers(store_url, default_data(data, console.print), workers, max_runs, only, console, precision)


@click.command("status")
@store_option
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="For the ETA.")
def status_cmd(store_url, workers) -> None:
    """Counts by status, ETA, and failures with their errors."""
    from ..app.grid_jobs import grid_status

    print_status(grid_status(store_url, workers), workers)


@click.command("reset")
@store_option
@click.option("--status", "statuses", multiple=True, required=True,
              type=click.Choice(["failed", "invalid", "done"]), help="Which finished runs to put back (repeatable).")
@click.option("--only", help="Only these configurations, e.g. autoencoder=lstm,k=2|4")
def reset_cmd(store_url, statuses, only) -> None:
    """Put finished runs back to pending, after fixing what made them fail; their results are cleared."""
    from ..app.grid_jobs import reset_runs

    store, n = reset_runs(store_url, statuses, only)
    console.print(f"{store}: {n} {'/'.join(statuses)} run(s) put back to pending; `fthc run` takes them")


@click.command("export")
@store_option
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True, help="File format.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results.csv"), show_default=True,
              help="File to write (replaced whole).")
def export_cmd(store_url, fmt, out) -> None:
    """One row per configuration with every run's metrics (like the reference results.csv)."""
    from ..app.grid_jobs import export_results

    console.print(f"wrote {export_results(store_url, out)} configurations to {out}")


@click.command("report")
@store_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("fthc-out/report"), show_default=True,
              help="Folder for report.html, report.md and the figures.")
def report_cmd(store_url, out) -> None:
    """The paper's figures from the store: report.html, report.md, PNG figures and results.csv."""
    from ..app.grid_jobs import grid_report

    with showing_progress():
        r = grid_report(store_url, out)
    console.print(r["summary"])
    console.print(f"report: {out / 'report.html'} ({len(r['figures'])} figures)")


COMMANDS = (init_db, run_cmd, status_cmd, reset_cmd, export_cmd, report_cmd)
