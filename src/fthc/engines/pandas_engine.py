"""The pandas engine: the reference implementation of the behaviour sums (`fthc.features.reference`), in this
process. The SQL engines are tested against it; it is also a choice of its own (`--engine pandas`)."""

from __future__ import annotations

import pandas as pd

from ..features.reference import behaviour_sums
from . import ENGINES


@ENGINES.register("pandas", doc="pandas, the reference implementation, in this process")
class PandasEngine:
    name = "pandas"

    def frame_source(self, tx: pd.DataFrame, name: str = "canonical") -> pd.DataFrame:
        return tx

    def sums(self, source: pd.DataFrame, as_of: pd.Series | None = None) -> pd.DataFrame:
        """The `CUSTOMER` sums of a canonical table; with `as_of` (customer id -> cutoff), those customers only,
        each from its transactions before its cutoff."""
        if as_of is not None:
            cutoff = source["customer_id"].map(as_of)
            source = source[cutoff.notna().to_numpy() & (source["timestamp"] < cutoff).to_numpy()]
        return behaviour_sums(source)

    def close(self) -> None:
        pass
