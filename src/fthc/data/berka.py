"""Reader for the PKDD'99 Berka bank data: 8 semicolon-separated tables in one folder.

Reads the files as they are distributed (`.asc` or `.csv`, quoted, CRLF or LF, YYMMDD dates, `?` for
missing), keeps the Czech code values and adds English labels, parses client birth numbers into birth date
and gender, and validates every key between tables. `to_transactions` adapts the data onto the canonical
transaction table that the rest of fthc consumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .errors import ReadReport
from .tables import ColumnKind, RowChecker, parse_columns, read_text_table
from .transactions import KINDS, canonical_frame

# table -> {column: (kind, nullable)}, in file order. The primary key is the first column (district: A1).
SCHEMA: dict[str, dict[str, tuple[ColumnKind, bool]]] = {
    "account": {"account_id": ("int", False), "district_id": ("int", False), "frequency": ("str", False),
                "date": ("yymmdd", False)},
    "client": {"client_id": ("int", False), "birth_number": ("str", False), "district_id": ("int", False)},
    "disp": {"disp_id": ("int", False), "client_id": ("int", False), "account_id": ("int", False),
             "type": ("str", False)},
    "order": {"order_id": ("int", False), "account_id": ("int", False), "bank_to": ("str", True),
              "account_to": ("str", True), "amount": ("float", False), "k_symbol": ("str", True)},
    "trans": {"trans_id": ("int", False), "account_id": ("int", False), "date": ("yymmdd", False),
              "type": ("str", False), "operation": ("str", True), "amount": ("float", False),
              "balance": ("float", False), "k_symbol": ("str", True), "bank": ("str", True),
              "account": ("str", True)},
    "loan": {"loan_id": ("int", False), "account_id": ("int", False), "date": ("yymmdd", False),
             "amount": ("float", False), "duration": ("int", False), "payments": ("float", False),
             "status": ("str", False)},
    "card": {"card_id": ("int", False), "disp_id": ("int", False), "type": ("str", False),
             "issued": ("yymmdd_time", False)},
    "district": {"A1": ("int", False), "A2": ("str", False), "A3": ("str", False), "A4": ("int", False),
                 "A5": ("int", False), "A6": ("int", False), "A7": ("int", False), "A8": ("int", False),
                 "A9": ("int", False), "A10": ("float", False), "A11": ("int", False),
                 "A12": ("float", True), "A13": ("float", False), "A14": ("int", False),
                 "A15": ("int", True), "A16": ("int", False)},
}
TABLES = tuple(SCHEMA)

# Czech code -> English label, per (table, column). Values not listed here are rejected.
LABELS: dict[tuple[str, str], dict[str | None, str]] = {
    ("account", "frequency"): {"POPLATEK MESICNE": "monthly", "POPLATEK TYDNE": "weekly",
                               "POPLATEK PO OBRATU": "after transaction"},
    ("disp", "type"): {"OWNER": "owner", "DISPONENT": "disponent"},
    ("trans", "type"): {"PRIJEM": "credit", "VYDAJ": "debit", "VYBER": "cash withdrawal"},
    ("trans", "operation"): {"VYBER KARTOU": "card withdrawal", "VKLAD": "cash credit",
                             "PREVOD Z UCTU": "collection from another bank", "VYBER": "cash withdrawal",
                             "PREVOD NA UCET": "remittance to another bank", None: "unknown"},
    ("trans", "k_symbol"): {"POJISTNE": "insurance", "SLUZBY": "statement fee", "UROK": "interest credited",
                            "SANKC. UROK": "sanction interest", "SIPO": "household", "DUCHOD": "pension",
                            "UVER": "loan payment", None: "none"},
    ("order", "k_symbol"): {"POJISTNE": "insurance", "SIPO": "household", "LEASING": "leasing",
                            "UVER": "loan payment", None: "none"},
    ("loan", "status"): {"A": "finished, no problems", "B": "finished, loan not paid",
                         "C": "running, OK so far", "D": "running, client in debt"},
    ("card", "type"): {"junior": "junior", "classic": "classic", "gold": "gold"},
}

DISTRICT_NAMES = {
    "A1": "district_id", "A2": "district_name", "A3": "region", "A4": "inhabitants",
    "A5": "munis_lt_500", "A6": "munis_500_1999", "A7": "munis_2000_9999", "A8": "munis_ge_10000",
    "A9": "n_cities", "A10": "urban_ratio", "A11": "avg_salary", "A12": "unemployment_95",
    "A13": "unemployment_96", "A14": "entrepreneurs_per_1000", "A15": "crimes_95", "A16": "crimes_96",
}

# (table, column) -> (referenced table, referenced key)
FOREIGN_KEYS = [
    ("trans", "account_id", "account", "account_id"),
    ("loan", "account_id", "account", "account_id"),
    ("order", "account_id", "account", "account_id"),
    ("disp", "account_id", "account", "account_id"),
    ("disp", "client_id", "client", "client_id"),
    ("card", "disp_id", "disp", "disp_id"),
    ("account", "district_id", "district", "A1"),
    ("client", "district_id", "district", "A1"),
]


@dataclass
class BerkaData:
    """The Berka tables, typed and validated. `tables[name]` is a DataFrame; `trans` may be absent."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path]
    report: ReadReport = field(default_factory=ReadReport)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise DataError(f"table {name!r} was not read", file=self.folder,
                            expected=f"one of {sorted(self.tables)}")
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables


def find_table(folder: Path, name: str) -> Path | None:
    """`name.asc` or `name.csv` (any case), or None; two candidates for one table are an error naming both."""
    found = [p for p in sorted(folder.iterdir()) if p.is_file() and p.stem.lower() == name and
             p.suffix.lower() in (".asc", ".csv")]
    if len(found) > 1:
        raise DataError(f"two files for the Berka table {name!r}: {', '.join(p.name for p in found)}", file=folder,
                        expected=f"one file {name}.asc or {name}.csv (remove the other)")
    return found[0] if found else None


def berka_files(folder: Path) -> list[Path]:
    """The Berka tables a folder holds (by name, .asc or .csv)."""
    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.stem.lower() in SCHEMA and
            p.suffix.lower() in (".asc", ".csv")]


MAY_BE_EMPTY = {"loan", "card", "order"}  # a small bank without loans, cards or standing orders is still a bank


def read_table(path: str | Path, name: str, *, lenient: bool = False,
               report: ReadReport | None = None) -> pd.DataFrame:
    """Read one Berka table from its file, typed, with English labels and checked codes."""
    path = Path(path)
    if name not in SCHEMA:
        raise DataError(f"unknown Berka table {name!r}", expected=f"one of {list(TABLES)}")
    spec = SCHEMA[name]
    raw = read_text_table(path, ";", required=list(spec), allow_empty=name in MAY_BE_EMPTY)
    checker = RowChecker(path, lenient=lenient, report=report)
    df = parse_columns(raw, spec, checker)

    for (table, col), labels in LABELS.items():
        if table == name:
            df = _label(df, col, labels, checker)

    if name == "client":
        df = _parse_birth_numbers(df, checker)
    if name in ("trans", "order", "loan"):
        neg = (df["amount"] < 0).to_numpy()
        df = checker.flag(df, neg, "amount", "negative amount", "a positive amount (the sign comes from 'type')",
                          df["amount"])
    if name == "district":
        df = df.rename(columns=DISTRICT_NAMES)

    key = "district_id" if name == "district" else next(iter(spec))
    dup = df[key].duplicated(keep="first").to_numpy()
    df = checker.flag(df, dup, key, "duplicate id", f"each {key} once", df[key])
    for col in df.columns:
        if str(df[col].dtype) == "Int64" and not df[col].isna().any():
            df[col] = df[col].astype("int64")
    return df.reset_index(drop=True)


def _label(df: pd.DataFrame, col: str, labels: dict, checker: RowChecker) -> pd.DataFrame:
    """Check a code column against its known values; keep it as a categorical and add `<col>_en`."""
    valid = [k for k in labels if k is not None]
    idx, uniques = pd.factorize(df[col])  # each distinct value is looked up once, not each row
    pos = pd.Index(valid).get_indexer(np.asarray(uniques, dtype=object)) if len(uniques) else np.zeros(0, int)
    codes = np.where(idx >= 0, pos[np.maximum(idx, 0)] if len(pos) else -1, -1)
    known = (codes >= 0) | ((idx < 0) & (None in labels))
    df = checker.flag(df, ~known, col, "unknown code", f"one of {valid}", df[col])
    codes = codes[known]
    df = df.copy()
    df[col] = pd.Categorical.from_codes(codes, valid)
    english = [labels[k] for k in valid] + ([labels[None]] if None in labels else [])
    df[f"{col}_en"] = pd.Categorical.from_codes(np.where(codes < 0, len(valid), codes), english)
    return df


def _parse_birth_numbers(df: pd.DataFrame, checker: RowChecker) -> pd.DataFrame:
    """birth_number YYMMDD with 50 added to the month for women -> birth_date, gender."""
    text = df["birth_number"].astype("string").str.strip()
    ok = text.str.fullmatch(r"\d{6}").fillna(False).to_numpy(dtype=bool)
    n = pd.to_numeric(text.where(ok), errors="coerce")
    mm = (n // 100) % 100
    female = mm > 50
    dates = pd.to_datetime(pd.DataFrame({"year": 1900 + n // 10000, "month": mm - 50 * female,
                                         "day": n % 100}), errors="coerce")
    bad = dates.isna().to_numpy()
    df = checker.flag(df, bad, "birth_number", "invalid birth number",
                      "YYMMDD with 50 added to the month for women", df["birth_number"])
    keep = ~bad
    df = df.copy()
    df["birth_date"] = dates[keep].to_numpy()
    df["gender"] = pd.Categorical(np.where(female[keep], "F", "M"), categories=["F", "M"])
    return df


def read_berka(folder: str | Path, *, require_trans: bool = True, lenient: bool = False) -> BerkaData:
    """Read the Berka tables of one folder and validate the keys between them.

    The real transaction table is large and sometimes unavailable: with `require_trans=False` a folder
    holding the other 7 tables is accepted.

    Parameters
    ----------
    folder : str or Path
        The folder of the .asc (or .csv) tables.
    require_trans : bool
        Refuse a folder without the transaction table.
    lenient : bool
        Leave out bad rows (counted) instead of refusing the table.

    Returns
    -------
    BerkaData
        The tables as DataFrames, keyed by name.

    Examples
    --------
    >>> import fthc
    >>> berka = fthc.read_berka("data/berka", require_trans=False)  # doctest: +SKIP
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("not a folder", file=folder, expected="a folder holding the Berka tables")
    report = ReadReport()
    tables, files = {}, {}
    for name in TABLES:
        path = find_table(folder, name)
        if path is None:
            if name == "trans" and not require_trans:
                continue
            raise DataError(f"missing Berka table {name!r}", file=folder,
                            expected=f"a file {name}.asc or {name}.csv")
        tables[name] = read_table(path, name, lenient=lenient, report=report)
        files[name] = path
    data = BerkaData(folder, tables, files, report)
    _check_keys(data, lenient)
    return data


def _check_keys(data: BerkaData, lenient: bool) -> None:
    for table, col, ref, ref_col in FOREIGN_KEYS:
        if table not in data.tables or ref not in data.tables:
            continue
        ref_col = "district_id" if ref == "district" else ref_col
        df = data.tables[table]
        bad = ~df[col].isin(data.tables[ref][ref_col]).to_numpy()
        checker = RowChecker(data.files[table], lenient=lenient, report=data.report)
        kept = checker.flag(df, bad, col, f"{col} not found in the {ref} table",
                            f"an id present in {data.files[ref].name}", df[col])
        data.tables[table] = kept.reset_index(drop=True)


# Berka (type, operation, k_symbol) -> canonical kind of transaction, first match wins.
def berka_kind(trans: pd.DataFrame) -> pd.Categorical:
    """Berka (type, operation, k_symbol) -> canonical kind of transaction; the first matching rule wins."""
    op, ks = trans["operation"], trans["k_symbol"]  # categoricals: comparisons are cheap, missing is False
    credit = trans["type"] == "PRIJEM"
    rules = [
        ("pension", ks == "DUCHOD"), ("loan_payment", ks == "UVER"),
        ("interest_fees", ks.isin(["UROK", "SANKC. UROK", "SLUZBY"])),
        ("card_payment", op == "VYBER KARTOU"), ("cash_deposit", op == "VKLAD"),
        ("cash_withdrawal", (op == "VYBER") | (trans["type"] == "VYBER")),
        ("incoming_transfer", (op == "PREVOD Z UCTU") | credit),
        ("outgoing_transfer", op == "PREVOD NA UCET"),
    ]
    codes = np.select([r.to_numpy(dtype=bool) for _, r in rules], [KINDS.index(k) for k, _ in rules],
                      default=KINDS.index("other"))
    return pd.Categorical.from_codes(codes, KINDS)


def to_transactions(data: BerkaData) -> pd.DataFrame:
    """The canonical, date-sorted transaction table of Berka data (one customer = one account).

    Debits (VYDAJ) and cash withdrawals (VYBER) are negative; the reference code left VYBER positive.
    """
    if "trans" not in data.tables:
        raise DataError("the transaction table is missing", file=data.folder,
                        expected="trans.asc or trans.csv in the folder")
    t = data.tables["trans"]
    sign = np.where((t["type"] == "PRIJEM").to_numpy(), 1.0, -1.0)
    extras = {
        "transaction_id": t["trans_id"].to_numpy(),
        "operation": t["operation"], "k_symbol": t["k_symbol"], "partner_bank": t["bank"],
    }
    return canonical_frame(
        customer_id=t["account_id"].to_numpy(), timestamp=t["date"].to_numpy(), amount=t["amount"].to_numpy() * sign,
        balance=t["balance"].to_numpy(), kind=berka_kind(t), extras=extras,
    )
