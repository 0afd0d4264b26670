"""The `fthc` command line: a thin layer over the library."""

from __future__ import annotations

import sys
from contextlib import contextmanager
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import DataError, FthcError
from .progress import counted

import pandas as pd

console = Console(soft_wrap=True, markup=False)  # long paths stay on one line; paths and values are text, never markup


def _fail(exc: Exception) -> None:
    """One line, exit code 2; the message is printed as it is (its [brackets] are text, not Rich markup)."""
    from rich.text import Text

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
        import sys

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

    from .experiments.store.base import scrub

    urls = {os.environ.get("FTHC_STORE", "")}
    c = ctx
    while c is not None:
        urls |= {v for v in (c.params or {}).values() if isinstance(v, str) and "://" in v}
        c = getattr(c, "invoked_subcommand_context", None)
    for arg in ctx.args + __import__("sys").argv:
        if isinstance(arg, str) and "://" in arg:
            urls.add(arg.split("=", 1)[-1])
    for url in filter(None, urls):
        text = scrub(text, url)
    return text


class WindowParam(click.ParamType):
    """A window in months (1 or more), or auto."""

    name = "months|auto"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        try:
            months = int(value)
        except (TypeError, ValueError):
            months = 0
        if months < 1:
            self.fail(f"{value!r} is neither a number of months (1 or more) nor auto", param, ctx)
        return months


class RegistryChoice(click.Choice):
    """The names of a registry (read when the option is first parsed or shown), so a new component is a valid
    choice without the CLI listing it again."""

    def __init__(self, names, *extra: str):
        self._names, self._extra = names, extra
        super().__init__([])

    @property
    def choices(self):
        return [*self._names(), *self._extra]

    @choices.setter
    def choices(self, value) -> None:  # click.Choice's own __init__ assigns it
        pass


def _engine_names() -> list[str]:
    from .engines import ENGINES

    return ENGINES.names()


def _risk_model_names() -> list[str]:
    from .risk.model import RISK_MODELS

    return RISK_MODELS.names()


class KType(click.ParamType):
    """A number of segments (1 or more) or 'auto'."""

    name = "INTEGER|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            k = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is neither a number of segments nor 'auto'", param, ctx)
        if k < 1:
            self.fail(f"{k} segments: at least 1", param, ctx)
        return k


def example(*lines: str) -> str:
    """A help epilog with examples (click keeps the lines as they are after \b)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


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

    from .errors import FthcWarning
    from .threads import thread_budget

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


@data.command("synth", epilog=example("fthc data synth --out fthc-data/berka",
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
def synth(out: Path, accounts: int, seed: int, difficulty: str, form: str, risk: str, migration: str | None) -> None:
    """Write synthetic data with planted segments: 8 Berka tables (or one transaction table), outcomes.csv for
    part of the customers, ground_truth.csv."""
    from .data.synth import Migration, write_synthetic_berka, write_synthetic_table

    planted = None
    if migration:
        share, _, month = migration.partition("@")
        try:
            planted = Migration(float(share), month)
            planted.at()
        except ValueError as exc:
            raise click.BadParameter(f"{migration!r}: expected SHARE@YYYY-MM with SHARE in 0..1 and a month from "
                                     f"1993-02 to 1998-12 ({exc})", param_hint="--migration") from None
        if not 0 <= planted.share <= 1:
            raise click.BadParameter(f"{migration!r}: the share must lie in 0..1", param_hint="--migration")
    result = write_synthetic_table(out, accounts, seed, difficulty, risk=risk, migration=planted) \
        if form == "table" else write_synthetic_berka(out, accounts, seed, difficulty, risk=risk, migration=planted)
    console.print(f"wrote {counted(result.n_accounts, 'account')} and {counted(result.n_transactions, 'transaction')} to {out}")


COLUMN_FLAGS = ("customer_col", "time_col", "amount_col", "direction_col", "balance_col", "category_col",
                "date_format", "decimal", "encoding")


def mapping_options(f):
    """Column-mapping flags for a user's own CSV/Parquet transaction table: the command receives them built into
    one `mapping` (a ColumnMapping, or None where none is given) and `lenient`."""
    import functools

    opts = [
        click.option("--mapping", type=click.Path(path_type=Path, exists=True), help="TOML file with a [columns] table."),
        click.option("--customer-col", help="Column holding the customer id."),
        click.option("--timestamp-col", "--time-col", "time_col", help="Column holding the transaction date/time."),
        click.option("--amount-col", help="Column holding the amount (signed unless --direction-col)."),
        click.option("--direction-col", help="Column saying debit or credit (amounts then unsigned)."),
        click.option("--balance-col", help="Column holding the balance after the transaction."),
        click.option("--category-col", help="Column holding a transaction category."),
        click.option("--date-format", help="strftime format of the dates, e.g. %d/%m/%Y [default: inferred from "
                                           "every value of the column]."),
        click.option("--decimal", type=click.Choice([".", ","]),
                     help="The decimal mark of amounts and balances: ',' reads 2220,59 and 1.234,56 [default: .]."),
        click.option("--encoding", help="The text file's encoding, e.g. cp1250, latin-1 [default: UTF-8, else "
                                        "detected from its bytes and said]."),
        click.option("--lenient", is_flag=True, help="Skip bad rows (counted and reported) instead of failing."),
    ]

    @functools.wraps(f)
    def command(*args, **kwargs):
        flags = {name: kwargs.pop(name) for name in COLUMN_FLAGS}
        kwargs["mapping"] = build_mapping(kwargs.pop("mapping"), **flags)
        return f(*args, **kwargs)

    for opt in reversed(opts):
        command = opt(command)
    return command


def build_mapping(mapping, customer_col=None, time_col=None, amount_col=None, direction_col=None, balance_col=None,
                  category_col=None, date_format=None, decimal=None, encoding=None):
    from dataclasses import replace

    from .data.transactions import ColumnMapping

    flags = {"customer_id": customer_col, "timestamp": time_col, "amount": amount_col,
             "direction": direction_col, "balance": balance_col, "category": category_col,
             "date_format": date_format, "decimal": decimal, "encoding": encoding}
    if not mapping and not any(flags.values()):
        return None  # no mapping given: the default columns, or (assign) the ones the model was fitted with
    base = ColumnMapping.from_toml(mapping) if mapping else ColumnMapping()
    return replace(base, **{k: v for k, v in flags.items() if v})


@data.command("sample")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="Parquet file, folder or glob.")
@click.option("--customers", type=click.IntRange(1), default=200_000, show_default=True,
              help="How many customers to draw (all of them where there are fewer).")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed of the draw.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the sample (Parquet).")
@click.option("--spark-master", help="Spark master URL [default: local[N], N the thread budget].")
@mapping_options
def sample_cmd(data, customers, seed, out, spark_master, mapping, lenient) -> None:
    """A seeded random sample of customers with all their transactions, read with Spark (to fit on)."""
    from .app.spark_jobs import sample_customers

    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    r = sample_customers(data, out, customers, m, seed=seed, master=spark_master)
    console.print(f"sampled {r['customers']:,} of {r['of']:,} customers with all their transactions: {out}")


@data.command("inspect", epilog=example("fthc data inspect --data fthc-data/berka",
                                         "fthc data inspect --data my.csv --customer-col client --timestamp-col when"))
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--data", "data_opt", type=click.Path(path_type=Path),
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files (or give it as the argument).")
@mapping_options
def inspect_cmd(path: Path, data_opt, mapping, lenient) -> None:
    """Summarise a Berka folder or a transaction table: tables, rows, dates, histories, problems."""
    from .data.inspect import inspect_source

    path = data_opt or path
    if path is None:
        raise click.UsageError("give the data: fthc data inspect --data PATH")
    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    info = inspect_source(path, m, lenient=lenient)
    t = Table(title=f"fthc data inspect {path}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, rows in info["tables"].items():
        t.add_row(name, f"{rows:,}")
    console.print(t)
    if info.get("columns"):
        console.print(f"columns: {info['columns']}", highlight=False)
    if "transactions" in info:
        console.print(f"transactions: {info['transactions']:,}   customers: {info['customers']:,}   "
                      f"dates: {info['date_min']} .. {info['date_max']}")
        pc = info["per_customer"]
        console.print("transactions per customer: " + "  ".join(f"{k} {v:,.1f}" for k, v in pc.items()))
        console.print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in info["kinds"].items() if v))
    if info["skipped_rows"]:
        console.print(info["skipped_summary"], highlight=False)
    if info["problems"]:
        console.print("problems found:", style="yellow")
        for p in info["problems"]:
            console.print(Text(f"  - {p}"))
    else:
        console.print("no problems found", style="green")


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
@mapping_options
def init_db(store_url, grid_file, mapping, lenient) -> None:
    """Write the grid of configurations and their runs into the store (adds only what is missing). Mapping
    flags are stored with the grid, so that every worker reads a transaction table the same way."""
    from dataclasses import replace

    from .experiments.grid import Grid, expand
    from .experiments.store import open_store, mask_url

    grid = Grid.from_toml(grid_file) if grid_file else Grid()
    entries = expand(grid)
    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    grid = replace(grid, column_mapping=m.to_dict() if m else None, lenient=lenient)
    with open_store(store_url) as store:
        stored = store.grid()
        if stored is not None:
            if not (m or lenient):  # no mapping given: the stored grid's way of reading the data stays
                grid = replace(grid, column_mapping=stored.column_mapping, lenient=stored.lenient)
            if (stored.column_mapping, stored.lenient) != (grid.column_mapping, grid.lenient):
                raise FthcError(f"{mask_url(store.url)} already holds a grid that reads the data with column mapping "
                                f"{stored.column_mapping} (lenient: {stored.lenient}); use a new store for another "
                                "mapping")
            differ = {k: (v, grid.to_dict().get(k)) for k, v in stored.to_dict().items()
                      if _canonical(v) != _canonical(grid.to_dict().get(k))}
            if differ:
                raise FthcError(f"{mask_url(store.url)} already holds another grid: "
                                + "; ".join(f"{k} is {a!r} there, {b!r} here" for k, (a, b) in sorted(differ.items()))
                                + "; use a new store for this grid (or the stored grid file)")
        added, existing = store.init_grid(entries, grid.runs, grid.to_dict())
        skipped = sum(e.skipped is not None for e in entries)
        console.print(f"{mask_url(store.url)}: {added} configurations added, {existing} already present "
                      f"({len(entries)} in the grid, {skipped} skipped as incompatible), {grid.runs} runs each")


def _canonical(value):
    import json

    return json.loads(json.dumps(value, sort_keys=True, default=list))


@contextmanager
def showing_progress():
    """Stage, step, loss and ETA of what runs inside: a progress bar on a terminal, else a line every 30 s."""
    from .progress import ProgressReporter, reporting

    with ProgressReporter(console) as reporter, reporting(reporter):
        yield reporter


def precision_option(f):
    return click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]),
                        help="Arithmetic of the networks [default: the config's, auto: bf16 where the CPU or GPU "
                             "computes it natively and a short calibration finds it within 5% of fp32's "
                             "training loss, else fp32].")(f)


@main.command("run")
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
    from .experiments.parallel import run_workers

    run_workers(store_url, default_data(data), workers, max_runs, only, console, precision)


@main.command("status")
@store_option
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="For the ETA.")
def status_cmd(store_url, workers) -> None:
    """Counts by status, ETA, and failures with their errors."""
    from .experiments.report_table import status_summary
    from .experiments.store import open_store

    with open_store(store_url, create=False, readonly=True) as store:
        s = status_summary(store, workers)
    failed = s["counts"]["failed"]
    t = Table(title=f"runs ({s['complete']:.0%} finished" + (f", {failed:,} of them failed" if failed else "") + ")")
    for status in s["counts"]:
        t.add_column(status, justify="right")
    t.add_row(*[f"{v:,}" for v in s["counts"].values()])
    console.print(t)
    if s["mean_run_seconds"]:
        console.print(f"mean run {s['mean_run_seconds']:.1f} s; pretext stage reused in {s['pretext_reused']} runs")
    if s["leased"]:
        console.print(f"{s['leased']} run(s) held by a worker under a lease; if their workers are gone, they are "
                      f"claimed again once the lease ends (the last in {s['lease_ends_in']:.0f} s)")
    if s["expired_leases"]:
        console.print(f"{s['expired_leases']} run(s) whose worker stopped renewing its lease: counted as pending, "
                      "the next `fthc run` takes them")
    if s["counts"]["failed"] or s["counts"]["invalid"]:
        console.print("put failed runs back with `fthc reset --status failed` (or --status invalid)")
    if s["eta_seconds"] is not None:
        console.print(f"ETA with {workers} worker(s): {s['eta_seconds'] / 3600:.1f} h")
    for cfg, i, err in s["failures"][:20]:
        console.print(Text("failed", style="red") + Text(f" {cfg['autoencoder']}+{cfg['pretext']}+{cfg['clustering']} "
                                                         f"k={cfg['k']} run {i}: {err}"), highlight=False)


@main.command("reset")
@store_option
@click.option("--status", "statuses", multiple=True, required=True,
              type=click.Choice(["failed", "invalid", "done"]), help="Which finished runs to put back (repeatable).")
@click.option("--only", help="Only these configurations, e.g. autoencoder=lstm,k=2|4")
def reset_cmd(store_url, statuses, only) -> None:
    """Put finished runs back to pending, after fixing what made them fail; their results are cleared."""
    from .experiments.runner import parse_filter
    from .experiments.store import open_store, mask_url

    keep = parse_filter(only)
    with open_store(store_url, create=False) as store:
        ids = [cid for cid, cfg, _ in store.configs() if keep(cfg)] if only else None
        n = store.reset(set(statuses), ids)
        console.print(f"{mask_url(store.url)}: {n} {'/'.join(statuses)} run(s) put back to pending; "
                      "`fthc run` takes them")


@main.command("export")
@store_option
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True, help="File format.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results.csv"), show_default=True,
              help="File to write (replaced whole).")
def export_cmd(store_url, fmt, out) -> None:
    """One row per configuration with every run's metrics (like the reference results.csv)."""
    from .experiments.report_table import export_frame
    from .experiments.store import open_store

    with open_store(store_url, create=False, readonly=True) as store:
        df = export_frame(store)
    df.to_csv(out, index=False)
    console.print(f"wrote {len(df)} configurations to {out}")


# -- results to decisions --------------------------------------------------------------------------------
@main.command("report")
@store_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("fthc-out/report"), show_default=True,
              help="Folder for report.html, report.md and the figures.")
def report_cmd(store_url, out) -> None:
    """The paper's figures from the store: report.html, report.md, PNG figures and results.csv."""
    from .experiments.store import open_store
    from .reports.grid_report import write_report

    with open_store(store_url, create=False, readonly=True) as store, showing_progress():
        r = write_report(store, out)
    console.print(r["summary"])
    console.print(f"report: {out / 'report.html'} ({len(r['figures'])} figures)")


def _config(preset_name, config_file, overrides):
    import json

    from .config import ClustererConfig, preset

    if config_file:
        try:
            data = json.loads(Path(config_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"{config_file}: {exc}") from exc
        if not isinstance(data, dict):
            raise click.BadParameter(f"{config_file}: expected a JSON object of config fields, flat or by section "
                                     '(e.g. {"encoder": {"autoencoder": "resnet"}, "head": {"k": 6}})')
        return ClustererConfig.from_dict(data).replace(**overrides).validate()
    return preset(preset_name, **overrides)


@main.command("segment", epilog=example(
    "fthc segment --k auto --out fthc-out/segments               # synthetic Berka, the default method",
    "fthc segment --data bank/transactions.csv --outcomes bank/outcomes.csv --attributes bank/attributes.csv "
    "--out segs",
    "fthc segment --data my.parquet --mapping mapping.toml --k 6 --out segs",
    "fthc segment --data lake/transactions/ --engine spark --out segs   # a base larger than one machine",
    "fthc segment --preset fthc --k auto --out fthc-out/fthc     # the paper's method"))
@click.option("--data", type=click.Path(path_type=Path),
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files (default: synthetic Berka).")
@click.option("--preset", "preset_name", default="features", show_default=True,
              help="features (behaviour features, k-means: no network), behaviour (the same with a contrastive "
                   "embedding), fthc (the paper's), pooled, dtc, lstm, fcnn or vae.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, exists=True),
              help="JSON ClustererConfig: fields flat, or by section (encoder, head).")
@click.option("--k", "k", type=KType(), help="Number of segments, or auto [default: the --config file's k, else auto].")
@click.option("--representation", type=click.Choice(["amounts", "events", "calendar"]),
              help="Series representation of a network method [default: the preset's].")
@click.option("--pretrain-batches", type=click.IntRange(0), help="Training budget of a network method.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed of every fit and split.")
@precision_option
@click.option("--engine", type=RegistryChoice(_engine_names), default="duckdb", show_default=True,
              help="What computes the behaviour of every customer: duckdb (embedded), pandas, spark.")
@click.option("--spark-master", help="Spark master URL (--engine spark) [default: local[N], N the thread budget].")
@click.option("--outcomes", help="Outcomes some customers have (a CSV/Parquet file of customer_id and a 0/1 "
                                 "default), or 'loans' on a Berka folder: the risk of every customer is learnt.")
@click.option("--outcome-id-col", default="customer_id", show_default=True, help="The outcomes file's id column.")
@click.option("--outcome-col", default="default", show_default=True, help="The outcomes file's 0/1 column.")
@click.option("--outcome-date-col", help="The date each outcome refers to (default: a column reference_date where "
                                         "there is one); the model learns from each customer's history before it.")
@click.option("--risk-weight", default="auto", show_default=True,
              help="How much the outcome shapes the segments: auto (the stated rule), 0 (unsupervised), or a weight.")
@click.option("--risk-model", type=RegistryChoice(_risk_model_names), default="boosted",
              show_default=True, help="The outcome model: boosted trees (LightGBM), a logistic regression, or auto "
                                      "(the class chosen by nested cross-validation).")
@click.option("--window", type=WindowParam(), default="12", show_default=True,
              help="Months of history, ending at each customer's reference date, that every risk figure reads; "
                   "auto: 12, 24 or 36, whichever the outcome model predicts best out of fold.")
@click.option("--as-of", "as_of", help="A point in time (YYYY-MM-DD): the data and outcomes as they stood that day "
                                       "(nothing later is read) [default: the data's end].")
@click.option("--min-history", type=click.IntRange(1), default=6, show_default=True,
              help="Months of history in the window a customer needs for a risk and a grade (fewer: 'insufficient "
                   "history', not learnt from).")
@click.option("--performance-months", type=click.IntRange(0),
              help="Good outcomes (0) dated within this many months of the data's end are too young to read: left "
                   "out, counted [default: 6 for Berka's loans, 0 for an outcomes file].")
@click.option("--grade-edges", help="The master scale's edges of estimated risk, comma-separated (e.g. "
                                    "0.02,0.05,0.1,0.2,0.4) [default: 10 grades, 1% to 60%].")
@click.option("--attributes", type=click.Path(path_type=Path),
              help="CSV/Parquet of customer_id and groups (gender, age band, ...) for the fairness audit; never used "
                   "to fit (a Berka folder brings its owners' gender, age band and region).")
@click.option("--drop-duplicates", is_flag=True, help="Leave out rows that exactly repeat an earlier row (counted).")
@click.option("--allow-fewer", is_flag=True,
              help="Accept a result with fewer non-empty segments than k (otherwise exit code 2).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("fthc-out/segments"), show_default=True,
              help="Results folder (written whole at the end; a folder fthc did not write needs --force).")
@click.option("--force", is_flag=True, help="Replace an --out folder that holds files fthc did not write.")
@mapping_options
def segment_cmd(data, preset_name, config_file, k, representation, pretrain_batches, seed, precision, engine,
                spark_master, outcomes, outcome_id_col, outcome_col, outcome_date_col, risk_weight, risk_model,
                window, as_of, min_history, performance_months, grade_edges, attributes, drop_duplicates, allow_fewer, out, force, mapping, lenient) -> None:
    """Segment every customer: assignments, profiles, names, risk, segments.html and the model for assign."""
    from .app.commands import segment
    from .segments.segmenter import Segmenter

    overrides = {}
    if pretrain_batches is not None:
        overrides["pretrain_batches"] = pretrain_batches
    if precision is not None:
        overrides["precision"] = precision
    config = _config(preset_name, config_file, overrides | {"seed": seed})
    if k is None:  # a config file states its k; the flag overrides it
        k = config.head.k if config_file else "auto"
    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    method = config if (config_file or overrides) else preset_name
    if risk_weight != "auto":
        try:
            risk_weight = float(risk_weight)
        except ValueError:
            raise click.BadParameter(f"{risk_weight!r} is neither auto nor a number", param_hint="--risk-weight")
    seg = Segmenter(k=k, method=method, columns=m, engine=engine, seed=seed, representation=representation,
                    lenient=lenient, risk_weight=risk_weight, drop_duplicates=drop_duplicates,
                    risk_model=risk_model, window=window, as_of=_date(as_of, "--as-of"), min_history=min_history,
                    performance_months=performance_months, grade_edges=_edges(grade_edges))
    _spark_master(engine, spark_master)
    if outcomes is not None and outcomes != "loans":
        from .risk.outcomes import OutcomeFile

        outcomes = OutcomeFile(outcomes, outcome_id_col, outcome_col, outcome_date_col)
    with showing_progress():
        result = segment(default_data(data), out, seg, force=force, allow_fewer=allow_fewer, outcomes=outcomes,
                         attributes=attributes)
    print_segments(result)
    if result.get("replaced"):
        console.print(Text(f"replaced the earlier results in {out}: {result['replaced']}"))
    console.print(Text(f"segments: {out}/segments.html (and {', '.join(f for f in result['files'] if f != 'segments.html')})"))


def _date(text: str | None, flag: str):
    if text is None:
        return None
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (expected YYYY-MM-DD)", param_hint=flag) from None


LOWER = "lower risk than most: "  # how `fthc.risk.estimator.reason_texts` opens the reasons of a low-risk customer


def _edges(text: str | None):
    if text is None:
        return None
    from .risk.grades import check_edges

    try:
        return check_edges(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise click.BadParameter(str(exc).replace("could not convert string to float", "not a number"),
                                 param_hint="--grade-edges") from None


def _spark_master(engine: str, master: str) -> None:
    if engine == "spark" and master:
        import os

        os.environ["FTHC_SPARK_MASTER"] = master


def print_segments(r: dict, title: str = "segments") -> None:
    """The choice of k, notes, one line per segment with its name and key figures, and the risk."""
    seg = r["segmenter"]
    if seg.k_why_:
        console.print(Text(seg.k_why_))
    for note in seg.notes_:
        console.print(Text(f"note: {note}"))
    p = seg.profile_
    money = f" ({seg.currency_})" if seg.currency_ else ""
    from rich import box

    t = Table(title=f"{title} (k={r['k']}); medians of customers{money}; descriptions in segments.md",
              box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("seg", no_wrap=True)
    t.add_column("customers", justify="right", no_wrap=True)
    t.add_column("name", min_width=24, ratio=1)
    for col in ("income/mo", "balance", "neg."):
        t.add_column(col, justify="right", no_wrap=True)
    risky = r.get("risk") is not None
    if risky:
        t.add_column("default", justify="right", no_wrap=True)
    table = r["risk"]["table"] if risky else None
    for s, row in p.drop(index="all").iterrows():
        cells = [str(s), f"{int(row['customers']):,}", Text(seg.names_.get(s, "")), f"{row['median_income']:,.0f}",
                 "-" if pd.isna(row.get("median_balance")) else f"{row['median_balance']:,.0f}",
                 "-" if pd.isna(row.get("share_ever_negative")) else f"{row['share_ever_negative']:.0%}"]
        if risky:
            q = table.loc[s] if s in table.index else None
            cells.append("-" if q is None or not q["with_outcome"] else f"{q['rate']:.0%}/{int(q['with_outcome'])}")
        t.add_row(*cells)
    console.print(t)
    if r.get("risk"):
        for line in r["risk"]["lines"][:3 if r["risk"]["check"].get("learnt") else 2]:
            console.print(Text(line))
    view = r.get("inclusion")
    if view is not None:
        v = view["summary"]
        console.print(Text(f"inclusion: {v['invisible_in_favourable']:,} of the {v['invisible']:,} customers without "
                           f"a credit history sit in segments whose rate's 95% interval is at or below the "
                           f"portfolio's {v['portfolio_rate']:.1%} (inclusion.csv); "
                           f"{v['graded']:,} of them have a risk and a grade in assignments.csv, "
                           f"{v['invisible'] - v['graded']:,} too short a history in the window to grade"))


@main.command("assign", epilog=example(
    "fthc assign --model fthc-out/segments/model --data new_customers.csv --out assigned.csv",
    "fthc assign --model segs/model --data 'lake/transactions/' --engine spark --out scored/"))
@click.option("--model", "model_dir", type=click.Path(path_type=Path, exists=True), required=True,
              help="A model folder written by fthc segment (out/model).")
@click.option("--data", type=click.Path(path_type=Path), required=True,
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="A .csv or .parquet file; with --engine spark, a folder (Parquet, partitioned by segment).")
@click.option("--engine", type=RegistryChoice(_engine_names, "local"), default="duckdb",
              show_default=True, help="What computes the behaviour: duckdb (embedded), pandas, spark (local is "
                                      "duckdb, the name of earlier versions).")
@click.option("--spark-master", help="Spark master URL (--engine spark) [default: local[N], N the thread budget].")
@mapping_options
def assign_cmd(model_dir, data, out, engine, spark_master, mapping, lenient) -> None:
    """Score customers with a saved model: segment, name, confidence (and risk), read as at fitting."""
    from .app.commands import assign

    engine = "duckdb" if engine == "local" else engine
    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    if engine == "spark":
        from .app.spark_jobs import assign_spark

        r = assign_spark(model_dir, data, out, m, master=spark_master, lenient=lenient)
        console.print(Text(f"assigned {r['customers']:,} customers in {r['seconds']:.0f} s "
                           f"({r['customers'] / max(r['seconds'], 1e-9):,.0f} per second) with Spark "
                           f"{r.get('master') or spark_master}: {out}"))
        return
    with showing_progress():
        result = assign(model_dir, data, out, m, lenient, engine=engine)
    console.print(Text(f"assigned {counted(len(result), 'customer')} to segments: {out}"))


@main.command("track", epilog=example(
    "fthc track --model fthc-out/segments/model --data fthc-data/berka --every quarter --out tracks",
    "fthc track --model segs/model --data bank/transactions.csv --every month --from 2023-01 --to 2023-12 "
    "--out tracks"))
@click.option("--model", "model_dir", type=click.Path(path_type=Path, exists=True), required=True,
              help="A model folder written by fthc segment (out/model).")
@click.option("--data", type=click.Path(path_type=Path), required=True,
              help="Berka folder, CSV/Parquet file, or folder/glob of Parquet files.")
@click.option("--every", type=click.Choice(["month", "quarter"]), default="quarter", show_default=True,
              help="The period: each customer is placed at the end of every one.")
@click.option("--from", "start", help="The first period starts in this month (YYYY-MM) [default: the latest "
                                      "--periods periods].")
@click.option("--to", "end", help="The last period ends with this month (YYYY-MM) [default: the data's last whole "
                                  "month].")
@click.option("--periods", type=click.IntRange(2, 120), default=12, show_default=True,
              help="How many periods, when --from is not given.")
@click.option("--alerts", default="5%", show_default=True,
              help="Early-warning alerts per period: a share of the customers tracked ('5%') or a count ('200').")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for tracks.html, tracks.parquet, migration.csv, early_warning.csv, drift.csv.")
@click.option("--force", is_flag=True, help="Write into --out even if it holds files fthc did not write.")
@mapping_options
def track_cmd(model_dir, data, every, start, end, periods, alerts, out, force, mapping, lenient) -> None:
    """Follow customers over time with a fitted model (no refit): each one's segment, risk and grade at the end
    of every period, the migrations between periods, an early-warning list and drift against the fit."""
    from .app.commands import track

    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    with showing_progress():
        r = track(model_dir, data, out, every, start, end, periods, m, lenient, force, alerts)
    ends = sorted(r.tracks["period_end"].unique())
    last = r.tracks[r.tracks["period_end"] == ends[-1]]
    console.print(Text(f"{counted(r.tracks['customer_id'].nunique(), 'customer')} over {counted(len(ends), every)} "
                       f"({pd.Timestamp(ends[0]).date()} to {pd.Timestamp(ends[-1]).date()}); at the last, "
                       f"{len(last):,} with a window"))
    moved = r.migration[(r.migration["kind"] == "segment") & (r.migration["from"] != r.migration["to"])]
    latest = moved[moved["period_end"] == moved["period_end"].max()] if len(moved) else moved
    if len(latest):
        console.print(Text(f"moved between segments in the last {every}: {int(latest['customers'].sum()):,}"))
    flagged = r.early_warning[r.early_warning["period_end"] == ends[-1]] if len(r.early_warning) else \
        r.early_warning
    rules = flagged["rule"].value_counts() if len(flagged) else pd.Series(dtype=int)
    console.print(Text(f"early warning in the last {every}: {counted(len(flagged), 'alert')} (budget {alerts}"
                       + "".join(f"; {n:,} {rule}" for rule, n in rules.items()) + "; early_warning.csv)"))
    told = ("early warning:", "periods:")  # the others are drift's
    drift_notes = [n for n in r.notes if not n.startswith(told)]
    for note in r.notes:
        console.print(Text(note if note.startswith(told) else f"drift: {note}"))
    if not drift_notes:
        console.print(Text("drift: every input, the segment shares and the risk stable against the fit "
                           "(PSI < 0.10; drift.csv)"))
    console.print(Text(f"tracks: {out / 'tracks.html'} (and tracks.parquet, migration.csv, early_warning.csv, "
                       "drift.csv)"))


@main.command("explain", epilog=example(
    "fthc explain --model fthc-out/segments/model --data fthc-data/berka --customer 6"))
@click.option("--model", "model_dir", type=click.Path(path_type=Path, exists=True), required=True,
              help="A model folder written by fthc segment (out/model).")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="The customer's transactions.")
@click.option("--customer", required=True, help="The customer's id, as in the data.")
@mapping_options
def explain_cmd(model_dir, data, customer, mapping, lenient) -> None:
    """Why a customer is in its segment: the three behaviour traits that most place it there."""
    from .app.commands import explain

    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    with showing_progress():
        e = explain(model_dir, data, customer, m, lenient)
    row = e["row"]
    lines = [f"customer {e['customer']}: segment {int(row['segment'])} ({e['name']}), confidence "
             f"{row['confidence']:.2f}, {counted(row['transactions'], 'transaction')}"]
    lines.append("what places it there rather than in the next nearest segment"
                 + (f" ({e['nearest']})" if e.get("nearest") else "") + ":")
    lines += [f"  {i + 1}. " + e["segmenter"].reasons_.phrases([r]) for i, r in enumerate(e["reasons"])]
    if "risk" in row and pd.notna(row["risk"]):
        est = e["segmenter"].outcome_model_
        lines.append(f"estimated risk {row['risk']:.1%} (90% interval {row['risk_low']:.1%}-{row['risk_high']:.1%}), "
                     f"grade {int(row['risk_grade'])} of the master scale's {len(est.grades_.table)} "
                     f"(estimated risk {est.grades_.band(int(row['risk_grade']))}); the portfolio's rate "
                     f"{est.portfolio_rate_:.1%}")
        if row.get("has_outcome"):
            lines.append(f"known outcome: {'positive (defaulted)' if row['outcome'] == 1 else 'negative (repaid)'}; "
                         "its risk comes from a model that never saw this outcome")
        reasons = str(row["risk_reasons"])
        lower = reasons.startswith(LOWER)
        lines.append("lower risk than most; what lowers it most against the portfolio:" if lower else
                     "what raises its risk most against the portfolio:" if est.has_signal else "risk:")
        lines += [f"  {i + 1}. {text}" for i, text in enumerate(reasons.removeprefix(LOWER).split("; "))]
    elif "risk_reasons" in row:
        lines.append(f"no risk estimated: {row['risk_reasons']}")
    if "typical_income" in row and pd.notna(row["typical_income"]):
        lines.append(affordability_line(row))
    for line in lines:
        console.print(Text(line))


@main.command("offer", epilog=example(
    "fthc offer --model fthc-out/segments/model --data fthc-data/berka --out fthc-out/offer",
    "fthc offer --model segs/model --data bank.csv --product loan.toml --max-grade 5 --out offer"))
@click.option("--model", "model_dir", type=click.Path(path_type=Path, exists=True), required=True,
              help="A model folder written by fthc segment with outcomes (out/model).")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="The customers' transactions.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for offers.html, offers.csv, strategy.csv, strategy_by_segment.csv, needs.csv.")
@click.option("--product", "product_file", type=click.Path(path_type=Path),
              help="A TOML file of the product's terms (the options below override it).")
@click.option("--term", "term_months", type=int, help="Term in months [default: 12].")
@click.option("--rate", "annual_rate", type=float, help="Yearly interest rate, 0.24 for 24% [default: 0.24].")
@click.option("--repayment-share", type=float,
              help="Largest repayment as a share of typical monthly income [default: 0.35].")
@click.option("--lgd", "loss_given_default", type=float, help="Loss given default, a share [default: 0.6].")
@click.option("--funding-cost", type=float, help="Yearly cost of funds [default: 0.05].")
@click.option("--amount", type=float, help="The amount the product lends [default: the largest affordable].")
@click.option("--min-amount", type=float, help="Offer nothing below this amount [default: 0].")
@click.option("--max-amount", type=float, help="Largest amount [default: none].")
@click.option("--max-grade", type=int, help="The cut-off grade [default: the last grade whose margin is positive].")
@click.option("--force", is_flag=True, help="Write into --out even if it holds files fthc did not write.")
@mapping_options
def offer_cmd(model_dir, data, out, product_file, force, mapping, lenient, **terms) -> None:
    """What to offer each customer: the repayment its budget affords, the amount, expected loss and margin, a
    decision with its reason; the strategy table of grade cut-offs; savings and protection needs per segment."""
    from .app.offer import offer, summary_lines
    from .offer.product import read_product

    product = read_product(product_file, **terms)
    with showing_progress():
        r = offer(model_dir, data, out, product, mapping, lenient, force)
    for line in summary_lines(r):
        console.print(Text(line))
    console.print(Text(f"offers: {out / 'offers.html'} (and offers.csv, strategy.csv, strategy_by_segment.csv, "
                       "needs.csv)"))


def affordability_line(row) -> str:
    """A customer's affordability figures in one line (`fthc.offer.affordability`)."""
    def money(col):
        return "-" if pd.isna(row.get(col)) else f"{row[col]:,.0f}"

    buffer = row.get("buffer")
    return (f"affordability ({int(row['window_months'])}-month window): typical month income {money('typical_income')}, "
            f"spending {money('typical_spending')}, free cash flow {money('typical_free_cash_flow')} (a bad month "
            f"{money('bad_month_free_cash_flow')}), loan payments {money('commitments')} a month, buffer "
            + ("-" if pd.isna(buffer) else f"{buffer:.1f} months") + " of spending")


QUICK_GRID = dict(autoencoder=("fcnn", "resnet", "lstm", "dtc"), pretext=("mse",), clustering=("kmeans", "dtc"),
                  distance=("eucl", "cid"), k=(2, 4), reduction=("none", "pca"), runs=2, pretrain_batches=40,
                  dtc_batches=20, representation="calendar",
                  arch={"resnet": {"filters": 32}, "lstm": {"hidden": 32}})


@main.command("quickstart", epilog=example("fthc quickstart", "fthc quickstart --data my.csv --mapping mapping.toml"))
@click.option("--store", "store_url", default="fthc-quick.db", show_default=True,
              help="Store of the quick grid (SQLite file, or a URL as for init-db).")
@click.option("--data", type=click.Path(path_type=Path),
              help="Berka folder or transaction table (default: synthetic Berka).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("fthc-out"), show_default=True,
              help="Folder for report/, segments/ and offer/.")
@mapping_options
def quickstart(store_url, data, out, mapping, lenient) -> None:
    """The main job on the embedded defaults: a quick grid of the paper's components, its report, and customer
    segments with the default method, with every customer's risk learnt from a Berka folder's loans, and what to
    offer them (about 2 minutes on 2 cores)."""
    from dataclasses import replace

    from .experiments.grid import Grid, expand
    from .experiments.parallel import run_workers
    from .experiments.store import open_store
    from .reports.grid_report import write_report
    from .app.commands import segment
    from .segments.segmenter import Segmenter

    t0 = time.perf_counter()
    data = default_data(data)
    m = mapping  # the column flags, built into one ColumnMapping by mapping_options
    grid = replace(Grid(**QUICK_GRID), column_mapping=m.to_dict() if m else None, lenient=lenient)
    with open_store(store_url) as store:
        store.init_grid(expand(grid), grid.runs, grid.to_dict())
    console.print(f"quick grid: {len(expand(grid))} configurations x {grid.runs} runs in {store_url} "
                  f"(the paper's grid: fthc init-db)")
    run_workers(store_url, data, None, None, None, console)  # the machine's best layout of workers
    with open_store(store_url) as store, showing_progress():
        r = write_report(store, out / "report", segments_page=out / "segments" / "segments.html")
    console.print(r["summary"])
    loans = Path(data) / "loan.asc"  # a Berka folder: its loans are the outcomes the risk learns from
    outcomes = "loans" if loans.is_file() and sum(1 for _ in loans.open()) > 20 else None
    with showing_progress():
        try:
            s = segment(data, out / "segments", Segmenter(k="auto", columns=m, lenient=lenient), force=False,
                        outcomes=outcomes)
        except DataError as exc:  # a small bank: its loans too few to learn from, said, and segments without risk
            if outcomes is None or "too few outcomes to learn from" not in str(exc):
                raise
            console.print(Text(f"no risk learnt: {exc}; the segments follow without it"))
            s = segment(data, out / "segments", Segmenter(k="auto", columns=m, lenient=lenient), force=False)
    print_segments(s, title="features segments")
    offered = None
    if s["segmenter"].outcome_model_ is not None:  # what to offer, with the product's stated defaults
        from .app.offer import offer, summary_lines
        from .offer.product import Product

        with showing_progress():
            r = offer(out / "segments" / "model", data, out / "offer", Product(), m, lenient)
        for line in summary_lines(r):
            console.print(Text(line))
        offered = out / "offer" / "offers.html"
    console.print(Text(f"done in {time.perf_counter() - t0:.0f} s\n  segments: {out / 'segments' / 'segments.html'}\n"
                       + (f"  what to offer: {offered}\n" if offered else "") +
                       f"  grid report: {out / 'report' / 'report.html'}\n"
                       f"  next: fthc status --store {store_url}   fthc report --store {store_url}"))


if __name__ == "__main__":  # pragma: no cover
    main()
