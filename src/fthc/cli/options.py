"""The options the commands share, as decorators (the column mapping, the store, the precision), the parameter
types of their values, and the parsing of values a type cannot check alone."""

from __future__ import annotations

import functools
from pathlib import Path

import click


def example(*lines: str) -> str:
    """A help epilog with examples (click keeps the lines as they are after \b)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


# -- parameter types -------------------------------------------------------------------------------------
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


def engine_names() -> list[str]:
    from ..engines import ENGINES

    return ENGINES.names()


def risk_model_names() -> list[str]:
    from ..risk.model import RISK_MODELS

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


# -- shared options --------------------------------------------------------------------------------------
COLUMN_FLAGS = ("customer_col", "time_col", "amount_col", "direction_col", "balance_col", "category_col",
                "date_format", "decimal", "encoding")


def mapping_options(f):
    """Column-mapping flags for a user's own CSV/Parquet transaction table: the command receives them built into
    one `mapping` (a ColumnMapping, or None where none is given) and `lenient`."""
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

    from ..data.transactions import ColumnMapping

    flags = {"customer_id": customer_col, "timestamp": time_col, "amount": amount_col,
             "direction": direction_col, "balance": balance_col, "category": category_col,
             "date_format": date_format, "decimal": decimal, "encoding": encoding}
    if not mapping and not any(flags.values()):
        return None  # no mapping given: the default columns, or (assign) the ones the model was fitted with
    base = ColumnMapping.from_toml(mapping) if mapping else ColumnMapping()
    return replace(base, **{k: v for k, v in flags.items() if v})


store_option = click.option("--store", "store_url", default=None, envvar="FTHC_STORE",
                            help="fthc.db (default), a path, sqlite:///..., postgresql://... or mongodb://...")


def precision_option(f):
    return click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]),
                        help="Arithmetic of the networks [default: the config's, auto: bf16 where the CPU or GPU "
                             "computes it natively and a short calibration finds it within 5% of fp32's "
                             "training loss, else fp32].")(f)


def model_option(help: str = "A model folder written by fthc segment (out/model)."):
    return click.option("--model", "model_dir", type=click.Path(path_type=Path, exists=True), required=True,
                        help=help)


# -- values parsed in the command ------------------------------------------------------------------------
def read_config(config_file: Path | None) -> dict | None:
    """The fields of a --config JSON file (flat or by section), or None where none is given."""
    import json

    if not config_file:
        return None
    try:
        data = json.loads(Path(config_file).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{config_file}: {exc}") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(f"{config_file}: expected a JSON object of config fields, flat or by section "
                                 '(e.g. {"encoder": {"autoencoder": "resnet"}, "head": {"k": 6}})')
    return data


def parse_risk_weight(text: str):
    """--risk-weight: auto, or a number."""
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither auto nor a number", param_hint="--risk-weight")


def parse_date(text: str | None, flag: str):
    import pandas as pd

    if text is None:
        return None
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (expected YYYY-MM-DD)", param_hint=flag) from None


def parse_edges(text: str | None):
    """--grade-edges: the master scale's edges, comma-separated and checked."""
    if text is None:
        return None
    from ..risk.grades import check_edges

    try:
        return check_edges(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise click.BadParameter(str(exc).replace("could not convert string to float", "not a number"),
                                 param_hint="--grade-edges") from None
