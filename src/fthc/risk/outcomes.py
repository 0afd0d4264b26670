"""Outcomes a bank already has for some of its customers: a loan repaid or not, arrears, an overdraft written off.

A file (CSV or Parquet) with a customer id and a 0/1 outcome (columns `customer_id` and `default` unless told
otherwise), optionally the date the outcome refers to (the loan's date: what the customer did before it is what
may predict it); or, on a Berka folder, `loans`: status B or D (unpaid, in debt) is 1, A or C is 0, the loan's
date the reference (an account with several loans: 1 when any is bad, dated by the earliest).

Customers without an outcome are the normal case. An outcome for an id that is not among the customers is
counted and reported; a value that is not 0/1, an empty file, or too few of either outcome to learn from is an
error naming the file and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.ids import as_id_type
from ..errors import DataError, TooFewOutcomes
from ..progress import counted

MIN_EACH = 10  # customers of each outcome (0 and 1) needed to learn anything
PERFORMANCE_MONTHS = 6  # a good outcome younger than this at the data's end has not had time to go bad
TRUE = {"1", "true"}  # what docs/guide.md promises: 0/1 or true/false, nothing else
FALSE = {"0", "false"}


@dataclass(frozen=True)
class OutcomeFile:
    """Where the outcomes are and which columns hold them (what `fthc segment --outcomes` is told)."""

    path: str | Path
    id_col: str = "customer_id"
    outcome_col: str = "default"
    date_col: str | None = None

    def read(self, customers: pd.Index) -> "Outcomes":
        return read_outcomes(self.path, customers, self.id_col, self.outcome_col, self.date_col)


@dataclass
class Outcomes:
    y: pd.Series  # 0.0 / 1.0, index: customer ids (the transactions' id type)
    date: pd.Series | None  # the reference date of each outcome (None: outcomes without dates)
    source: str  # the file's name, or "loans"
    column: str
    unknown: int = 0  # outcomes of ids that are not among the customers
    rows: int = 0
    unknown_examples: tuple = ()
    young: pd.Series | None = None  # good outcomes too young to read (left out of learning, still a credit history)

    @property
    def given(self) -> pd.Series:
        """Every outcome given for a customer, the young ones included (who has a credit history)."""
        return self.y if self.young is None else pd.concat([self.y, self.young])

    def describe(self) -> str:
        text = (f"{counted(len(self.y), 'customer')} with an outcome in {self.source} (column {self.column!r}; "
                f"{int(self.y.sum()):,} positive, {self.y.mean():.1%})")
        if self.unknown:
            text += (f"; {self.unknown:,} outcome rows name ids that are not among the customers (left out, e.g. "
                     + ", ".join(repr(str(x)) for x in self.unknown_examples[:3]) + ")")
        return text


def _binary(values: pd.Series, file, column: str, lines: np.ndarray) -> pd.Series:
    """0/1 from numbers, booleans or their text; empty is missing (no outcome); anything else is an error."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    text = values.astype("string").str.strip().str.lower()
    text = text.str.replace(r"\.0+$", "", regex=True)  # 1.0 read from a float column
    missing = text.isna() | (text == "") | text.isin(["nan", "none", "null", "na"])
    ones, zeros = text.isin(TRUE).fillna(False), text.isin(FALSE).fillna(False)
    bad = ~(ones | zeros | missing)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"an outcome must be 0 or 1 ({int(bad.sum())} such row{'s' if bad.sum() > 1 else ''})",
                        file=file, row=int(lines[i]), column=column, value=values.iloc[i],
                        expected="0 or 1 (or true / false), empty for no outcome")
    return pd.Series(np.where(ones, 1.0, np.where(zeros, 0.0, np.nan)), index=values.index)


DATE_COLUMN = "reference_date"  # used when the file has it and no other date column is named


def read_outcomes(path, customers: pd.Index, id_col: str = "customer_id", outcome_col: str = "default",
                  date_col: str | None = None) -> Outcomes:
    """Outcomes from a CSV or Parquet file, keyed like the customers (`customers`: the transactions' ids). The
    reference date is `date_col`, or the column `reference_date` where the file has one."""
    from ..data.tables import read_keyed_file

    path = Path(path)
    raw, lines = read_keyed_file(path, "outcomes file", [c for c in (id_col, outcome_col, date_col) if c])
    return outcomes_from_frame(raw, lines, path, customers, id_col, outcome_col, date_col)


def outcomes_from_frame(raw: pd.DataFrame, lines, path, customers: pd.Index, id_col: str = "customer_id",
                        outcome_col: str = "default", date_col: str | None = None) -> Outcomes:
    """The same checks for a table already in memory (a DataFrame given in Python: `path` names it)."""
    lines = np.asarray(lines) if lines is not None else np.arange(2, len(raw) + 2)
    path = path if isinstance(path, Path) else Path(str(path))
    if date_col is None and DATE_COLUMN in raw.columns:
        date_col = DATE_COLUMN
    for col in (id_col, outcome_col, date_col):
        if col and col not in raw.columns:
            raise DataError(f"missing column {col!r}", file=path, column=col,
                            expected=f"columns {id_col!r} and {outcome_col!r}"
                                     + (f" and {date_col!r}" if date_col else "") + f", found {list(raw.columns)}")
    if len(raw) == 0:
        raise DataError("the outcomes file has no rows", file=path, expected="a row per customer with an outcome")
    ids = raw[id_col]
    empty_id = ids.isna() | (ids.astype("string").str.strip() == "")
    if empty_id.any():
        i = int(np.flatnonzero(empty_id.to_numpy())[0])
        raise DataError("missing customer id", file=path, row=int(lines[i]), column=id_col)
    y = _binary(raw[outcome_col], path, outcome_col, lines)
    keyed, foreign = as_id_type(ids, customers.to_numpy())
    frame = pd.DataFrame({"id": keyed.to_numpy(), "y": y.to_numpy(), "line": lines})
    if date_col:
        from ..data.dates import infer_date_format

        text = raw[date_col]
        if pd.api.types.is_datetime64_any_dtype(text):
            dates = pd.to_datetime(text)
        else:
            fmt = infer_date_format(text.astype("string").str.strip(), lines, path, date_col)
            dates = pd.to_datetime(text.astype("string").str.strip(), format=fmt, errors="coerce")
        bad = dates.isna() & frame["y"].notna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError("missing or unreadable reference date", file=path, row=int(lines[i]), column=date_col,
                            value=text.iloc[i], expected="the date the outcome refers to")
        frame["date"] = dates.to_numpy()
    frame = frame[frame["y"].notna().to_numpy() & ~foreign]
    twice = frame["id"][frame["id"].duplicated()]
    if len(twice):
        first = frame[frame["id"] == twice.iloc[0]]["line"].to_numpy()
        raise DataError(f"customer {str(twice.iloc[0])!r} has more than one outcome (rows "
                        f"{', '.join(map(str, first[:3]))})", file=path, column=id_col,
                        expected="one outcome per customer")
    known = frame["id"].isin(customers)
    strangers = [*frame["id"][~known.to_numpy()].head(3), *raw[id_col][foreign].head(3)][:3]
    if not known.any():
        sample = ", ".join(repr(str(x)) for x in customers[:3])
        raise DataError(f"none of the {len(frame):,} outcome ids matches a customer of the transactions (outcome "
                        f"ids such as {', '.join(repr(str(x)) for x in strangers)}; customer ids such as {sample})",
                        file=path, column=id_col, expected="the same ids as the transactions' customer ids")
    out = frame[known.to_numpy()].set_index("id")
    result = Outcomes(out["y"].astype(float), out["date"] if date_col else None, path.name, outcome_col,
                      unknown=int((~known).sum()) + int(foreign.sum()), rows=len(raw),
                      unknown_examples=tuple(strangers))
    check_learnable(result, path, outcome_col)
    return result


def berka_outcomes(context: pd.DataFrame) -> Outcomes:
    """`loans` on a Berka folder: status B or D is 1, A or C 0, dated by the loan (fthc.segments.profile)."""
    has = context["has_loan"].to_numpy(dtype=bool)
    y = context["loan_default"][has].astype(float)
    date = pd.to_datetime(context["loan_date"][has])
    result = Outcomes(y, date, "loans", "status")
    check_learnable(result, "loan.asc", "status")
    return result


def check_learnable(outcomes: Outcomes, file, column: str) -> None:
    y = outcomes.y
    ones, zeros = int(y.sum()), int((y == 0).sum())
    if ones < MIN_EACH or zeros < MIN_EACH:
        raise TooFewOutcomes(f"too few outcomes to learn from among the customers: {ones} positive and {zeros} negative",
                        file=file, column=column, expected=f"at least {MIN_EACH} of each")


def as_outcomes(outcomes, customers: pd.Index, context: pd.DataFrame | None) -> Outcomes | None:
    """What a fit learns from, from any form a caller gives: a path, an `Outcomes`, an `OutcomeFile`, "loans" (a
    Berka folder's loan table, `context`), a 0/1 Series by customer id (no dates), or a frame of customer_id,
    default[, reference_date]. None where none is given."""
    if outcomes is None:
        return None
    if isinstance(outcomes, Outcomes):
        return outcomes
    if isinstance(outcomes, OutcomeFile):
        return outcomes.read(customers)
    if isinstance(outcomes, str) and outcomes == "loans":
        if context is None:
            raise DataError("outcomes 'loans' need a Berka folder (its loan table)",
                            expected="a Berka folder, or an outcomes file for a transactions table")
        return berka_outcomes(context)
    if isinstance(outcomes, pd.Series):  # 0/1 by customer id (no dates)
        name = str(outcomes.name or "default")
        frame = pd.DataFrame({"customer_id": outcomes.index.to_numpy(), name: outcomes.to_numpy()})
        return outcomes_from_frame(frame, None, "the outcomes Series", customers, "customer_id", name)
    if isinstance(outcomes, pd.DataFrame):  # customer_id, default[, reference_date], as in a file
        return outcomes_from_frame(outcomes.reset_index(drop=True), None, "the outcomes DataFrame", customers)
    return read_outcomes(outcomes, customers)


def judging_outcomes(context: pd.DataFrame | None) -> Outcomes | None:
    """Without outcomes given, a Berka folder's loans (20 or more) judge the segments (never used to fit them)."""
    if context is not None and context["has_loan"].sum() >= 20:
        try:
            return berka_outcomes(context)
        except DataError:
            return None
    return None
