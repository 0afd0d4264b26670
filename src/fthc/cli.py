"""The `fthc` command line: a thin layer over the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .data.errors import FthcError

console = Console()


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


if __name__ == "__main__":  # pragma: no cover
    main()
