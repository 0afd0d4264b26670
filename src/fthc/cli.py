"""The `fthc` command line: a thin layer over the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .data.errors import FthcError

console = Console(soft_wrap=True)  # long paths and messages stay on one line


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False)
    sys.exit(2)


class FthcGroup(click.Group):
    """Turns fthc's own errors into one clear line and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except FthcError as exc:
            _fail(exc)


@click.group(cls=FthcGroup)
@click.version_option(package_name="fthc")
def main() -> None:
    """Financial Transaction History Clustering: segment customers by their transaction histories."""


@main.group(cls=FthcGroup)
def data() -> None:
    """Generate and inspect data."""


@data.command("synth")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder to write the tables to.")
@click.option("--accounts", default=4500, show_default=True, type=click.IntRange(1), help="Number of accounts.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
def synth(out: Path, accounts: int, seed: int) -> None:
    """Write synthetic Berka data (8 tables in the original format + ground_truth.csv)."""
    from .data.synth import write_synthetic_berka

    result = write_synthetic_berka(out, accounts, seed)
    console.print(f"wrote {result.n_accounts:,} accounts and {result.n_transactions:,} transactions to {out}")


def mapping_options(f):
    """Column-mapping flags for a user's own CSV/Parquet transaction table."""
    opts = [
        click.option("--mapping", type=click.Path(path_type=Path, exists=True), help="TOML file with a [columns] table."),
        click.option("--customer-col", help="Column holding the customer id."),
        click.option("--time-col", help="Column holding the transaction date/time."),
        click.option("--amount-col", help="Column holding the amount (signed unless --direction-col)."),
        click.option("--direction-col", help="Column saying debit or credit (amounts then unsigned)."),
        click.option("--balance-col", help="Column holding the balance after the transaction."),
        click.option("--category-col", help="Column holding a transaction category."),
        click.option("--date-format", help="strftime format of the dates, e.g. %Y-%m-%d."),
        click.option("--lenient", is_flag=True, help="Skip bad rows (counted and reported) instead of failing."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def build_mapping(mapping, customer_col, time_col, amount_col, direction_col, balance_col, category_col,
                  date_format):
    from dataclasses import replace

    from .data.transactions import ColumnMapping

    base = ColumnMapping.from_toml(mapping) if mapping else ColumnMapping()
    flags = {"customer_id": customer_col, "timestamp": time_col, "amount": amount_col,
             "direction": direction_col, "balance": balance_col, "category": category_col,
             "date_format": date_format}
    return replace(base, **{k: v for k, v in flags.items() if v})


@data.command("inspect")
@click.argument("path", type=click.Path(path_type=Path))
@mapping_options
def inspect_cmd(path: Path, mapping, customer_col, time_col, amount_col, direction_col, balance_col,
                category_col, date_format, lenient) -> None:
    """Summarise a Berka folder or a CSV/Parquet transaction table."""
    from .data.inspect import inspect_source

    m = build_mapping(mapping, customer_col, time_col, amount_col, direction_col, balance_col, category_col,
                      date_format)
    info = inspect_source(path, m, lenient=lenient)
    t = Table(title=f"fthc data inspect {path}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, rows in info["tables"].items():
        t.add_row(name, f"{rows:,}")
    console.print(t)
    if "transactions" in info:
        console.print(f"transactions: {info['transactions']:,}   customers: {info['customers']:,}   "
                      f"dates: {info['date_min']} .. {info['date_max']}")
        pc = info["per_customer"]
        console.print("transactions per customer: " + "  ".join(f"{k} {v:,.1f}" for k, v in pc.items()))
        console.print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in info["kinds"].items() if v))
    if info["skipped_rows"]:
        console.print(info["skipped_summary"], highlight=False)
    if info["problems"]:
        console.print("[yellow]problems found:[/]")
        for p in info["problems"]:
            console.print(f"  - {p}", highlight=False)
    else:
        console.print("[green]no problems found[/]")


# -- experiment grid -------------------------------------------------------------------------------------
DEFAULT_DATA = Path("fthc-data/berka")


def default_data(data: Path | None) -> Path:
    """The user's data, or synthetic Berka generated once into the working folder."""
    if data is not None:
        return data
    if not (DEFAULT_DATA / "trans.asc").exists():
        from .data.synth import write_synthetic_berka

        console.print(f"no --data given: generating synthetic Berka into {DEFAULT_DATA} (once)")
        write_synthetic_berka(DEFAULT_DATA)
    return DEFAULT_DATA


store_option = click.option("--store", "store_url", default=None, envvar="FTHC_STORE",
                            help="fthc.db (default), a path, sqlite:///..., postgresql://... or mongodb://...")


@main.command("init-db")
@store_option
@click.option("--grid", "grid_file", type=click.Path(path_type=Path), help="TOML file overriding the paper's grid.")
def init_db(store_url, grid_file) -> None:
    """Write the grid of configurations and their runs into the store (adds only what is missing)."""
    from .experiments.grid import Grid, expand
    from .experiments.store import open_store, mask_url

    grid = Grid.from_toml(grid_file) if grid_file else Grid()
    entries = expand(grid)
    with open_store(store_url) as store:
        added, existing = store.init_grid(entries, grid.runs, grid.to_dict())
        skipped = sum(e.skipped is not None for e in entries)
        console.print(f"{mask_url(store.url)}: {added} configurations added, {existing} already present "
                      f"({len(entries)} in the grid, {skipped} skipped as incompatible), {grid.runs} runs each")


@main.command("run")
@store_option
@click.option("--data", type=click.Path(path_type=Path), help="Berka folder or transaction table (default: synthetic).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1))
@click.option("--max-runs", type=click.IntRange(1), help="Stop after this many runs (per worker).")
@click.option("--only", help="Filter configurations, e.g. autoencoder=fcnn,k=2|4")
def run_cmd(store_url, data, workers, max_runs, only) -> None:
    """Claim and run pending runs until the grid is done (resumable; any number of workers and machines)."""
    from .experiments.parallel import run_workers

    run_workers(store_url, default_data(data), workers, max_runs, only, console)


@main.command("status")
@store_option
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="For the ETA.")
def status_cmd(store_url, workers) -> None:
    """Counts by status, ETA, and failures with their errors."""
    from .experiments.report_table import status_summary
    from .experiments.store import open_store

    with open_store(store_url) as store:
        s = status_summary(store, workers)
    t = Table(title=f"runs ({s['complete']:.0%} complete)")
    for status in s["counts"]:
        t.add_column(status, justify="right")
    t.add_row(*[f"{v:,}" for v in s["counts"].values()])
    console.print(t)
    if s["mean_run_seconds"]:
        console.print(f"mean run {s['mean_run_seconds']:.1f} s; pretext stage reused in {s['pretext_reused']} runs")
    if s["eta_seconds"] is not None:
        console.print(f"ETA with {workers} worker(s): {s['eta_seconds'] / 3600:.1f} h")
    for cfg, i, err in s["failures"][:20]:
        console.print(f"[red]failed[/] {cfg['autoencoder']}+{cfg['pretext']}+{cfg['clustering']} k={cfg['k']} "
                      f"run {i}: {err}", highlight=False)


@main.command("export")
@store_option
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("results.csv"), show_default=True)
def export_cmd(store_url, fmt, out) -> None:
    """One row per configuration with every run's metrics (like the reference results.csv)."""
    from .experiments.report_table import export_frame
    from .experiments.store import open_store

    with open_store(store_url) as store:
        df = export_frame(store)
    df.to_csv(out, index=False)
    console.print(f"wrote {len(df)} configurations to {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
