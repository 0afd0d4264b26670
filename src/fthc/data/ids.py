"""Customer ids are keys in a bank's systems: they leave fthc exactly as they came in.

One rule for every reader and engine:
- a typed column keeps its type: integers stay integers, text stays text (a Parquet string column of digits is
  still text), whole-number floats (an integer column that once held a null) become integers;
- a text column (CSV) becomes integers only when every value round-trips (`str(int(v)) == v`, inside int64), so
  `001` next to `1`, or a 20-digit id, keep their text;
- surrounding spaces are not part of an id; a value that is empty after them is missing (an error: every row
  needs its customer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INT64_DIGITS = 18  # any integer of at most 18 digits fits int64; longer ones stay text
INT_TEXT = rf"-?(0|[1-9]\d{{0,{INT64_DIGITS - 1}}})"  # the text an integer id is written as


def round_trips_as_int(text: pd.Series) -> bool:
    """Every value is the canonical text of an int64 (no sign but '-', no leading zeros, no spaces)."""
    t = text.astype("string")
    return bool(len(t)) and bool(t.str.fullmatch(INT_TEXT).fillna(False).all())


def customer_ids(values: pd.Series, typed: bool) -> np.ndarray:
    """The id column as an array of int64 or of Python str, by the rule above. `typed`: the values come from a
    typed source (Parquet, a DataFrame) whose column type is kept, rather than from text (CSV)."""
    if typed and pd.api.types.is_bool_dtype(values):
        return values.astype(str).to_numpy(dtype=object)
    if typed and pd.api.types.is_integer_dtype(values):
        return values.to_numpy(dtype=np.int64)
    if typed and pd.api.types.is_float_dtype(values):
        v = values.to_numpy(dtype=np.float64)
        if (v % 1 == 0).all() and (np.abs(v) < 2**53).all():
            return v.astype(np.int64)
        return values.astype(str).to_numpy(dtype=object)
    text = values.astype("string").str.strip()  # text, or the text of decimals and dates
    if not typed and round_trips_as_int(text):
        return text.astype("int64").to_numpy()
    return text.to_numpy(dtype=object)


def as_id_type(values: pd.Series, like: np.ndarray | pd.Index) -> tuple[pd.Series, np.ndarray]:
    """Ids read elsewhere (an outcomes or attributes file) in the type of the transactions' ids `like`, and a
    mask of those that cannot be one of them (text that is not an integer, where the ids are integers)."""
    text = values.astype("string").str.strip()
    if len(like) and np.issubdtype(np.asarray(like).dtype, np.integer):
        ok = text.str.fullmatch(INT_TEXT).fillna(False).to_numpy(dtype=bool)
        out = pd.Series(np.zeros(len(text), dtype=np.int64), index=values.index)
        if ok.any():
            out[ok] = pd.to_numeric(text[ok]).astype("int64").to_numpy()
        return out, ~ok
    return pd.Series(text.to_numpy(dtype=object), index=values.index), np.zeros(len(text), dtype=bool)
