"""`fthc data synth`, `sample` and `inspect`: generate and inspect data."""

from __future__ import annotations

from pathlib import Path

import click

from ..progress import counted
from .options import example, mapping_options
from .printing import console, print_inspect


@click.command("synth", epilog=example("fthc data synth --out fthc-data/berka",
                                       "fthc data synth --out fthc-data/table --format table --difficulty hard"))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder to write the tables to.")
@click.option("--accounts", default=4500, show_default=True, type=click.IntRange(1), help="Number of accounts.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--difficulty", type=click.Choice(["standard", "hard"]), default="standard", show_default=True,
              help="hard: overlapping incomes, heavy-tailed amounts, more blends, customers who switch segment.")
@click.option("--format", "form", type=click.Choice(["berka", "table"]), default="berka", show_default=True,
              help="berka: the 8 tables; table: a bank's own transactions.csv with outcomes.csv and attributes.csv.")
@click.option("--risk", type=click.Choice(["linear", "recent"]), default="linear", show_default=True,
              help="recent: outcomes driven by thresholds, an interaction and income stopping or falling before "
                   "default.")
@click.option("--migration", metavar="SHARE@YYYY-MM",
              help="Plant migrations: SHARE of the accounts take another segment's habits from month YYYY-MM "
                   "(e.g. 0.3@1997-01; ground_truth.csv says who and when).")
@click.option("--affordability/--no-affordability", default=False, show_default=True,
              help="Plant an affordability effect: a loan is likelier to go bad the larger its payment against the "
                   "account's expected monthly surplus (ground_truth.csv: expected_surplus, loan_burden).")
def synth(out: Path, accounts: int, seed: int, difficulty: str, form: str, risk: str, migration: str | None,
          affordability: bool) -> None:
    """Write synthetic data with planted segments: 8 Berka tables (or one transaction table), outcomes.csv for
    part of the customers, ground_truth.csv."""
    from ..data.synth import write_synthetic_berka, write_synthetic_table

    planted = parse_migration(migration)
    write = write_synthetic_table if form == "table" else write_synthetic_berka
    result = write(out, accounts, seed, difficulty, risk=risk, migration=planted, affordability=affordability)
    console.print(f"wrote {counted(result.n_accounts, 'account')} and "
                  f"{counted(result.n_transactions, 'transaction')} to {out}")


def parse_migration(migration: str | None):
    """--migration SHARE@YYYY-MM: a Migration, checked; None where none is given."""
    if not migration:
        return None
    from ..data.synth import Migration

    share, _, month = migration.partition("@")
    try:
        planted = Migration(float(share), month)
        planted.at()
    except ValueError as exc:
        raise click.BadParameter(f"{migration!r}: expected SHARE@YYYY-MM with SHARE in 0..1 and a month from "
                                 f"1993-02 to 1998-12 ({exc})", param_hint="--migration") from None
    if not 0 <= planted.share <= 1:
        raise click.BadParameter(f"{migration!r}: the share must lie in 0..1", param_hint="--migration")
    return planted


@click.command("sample")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="Parquet file, folder or glob.")
@click.option("--customers", type=click.IntRange(1), default=200_000, show_default=True,
              help="How many customers to draw (all of them where there are fewer).")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed of the draw.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the sample (Parquet).")
@click.option("--spark-master", help="Spark master URL [default: local[N], N the thread budget].")
@mapping_options
def sample_cmd(data, customers, seed, out, spark_master, mapping, lenient) -> None:
    """A seeded random sample of customers with all their transactions, read with Spark (to fit on)."""
    from ..app.spark_jobs import sample_customers

    r = sample_customers(data, out, customers, mapping, seed=seed, master=spark_master)
    console.print(f"sampled {r['customers']:,} of {r['of']:,} customers with all their transactions: {out}")


@click.command("inspect", epilog=example("fthc data inspect --data fthc-data/berka",
                                         "fthc data inspect --data my.csv --customer-col client --timestamp-col when"))
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--data", "data_opt", type=click.Path(path_type=Path),
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files (or give it as the argument).")
@mapping_options
def inspect_cmd(path: Path, data_opt, mapping, lenient) -> None:
    """Summarise a Berka folder or a transaction table: tables, rows, dates, histories, problems."""
    from ..data.inspect import inspect_source

    path = data_opt or path
    if path is None:
        raise click.UsageError("give the data: fthc data inspect --data PATH")
    print_inspect(path, inspect_source(path, mapping, lenient=lenient))


COMMANDS = (synth, sample_cmd, inspect_cmd)
