"""What every engine computes over a source's canonical relation (`fthc.engines`): the relation made once per
engine, then the behaviour sums, windows, months, the page's monthly figures and the data's first and last times.
`Source` (a frame in memory) and `Dataset` (Parquet files where they lie) differ only in how the relation is made."""

from __future__ import annotations

import pandas as pd


class OnEngine:
    """A source an engine reads: a subclass says how its relation is made (`_make_relation`)."""

    def _make_relation(self, engine):
        raise NotImplementedError

    def relation(self, engine):
        """The data as `engine`'s canonical relation, made once per engine."""
        key = engine  # the engine itself (an id could be reused by a new engine once this one is gone)
        if getattr(self, "_relation", (None, None))[0] is not key:
            self._relation = (key, self._make_relation(engine))
        return self._relation[1]

    def sums(self, engine, as_of: pd.Series | None = None) -> pd.DataFrame:
        """The behaviour sums of every customer by `engine`; with `as_of` (customer id -> date), those customers'
        before the date."""
        return engine.sums(self.relation(engine), as_of)

    def window_sums(self, engine, windows: list):
        """Per window (first month or None, last month) in turn: every customer's sums inside it and its last
        customer-months, from one aggregation of the transactions (`fthc track`)."""
        return engine.window_sums(self.relation(engine), windows)

    def last_timestamp(self, engine) -> pd.Timestamp:
        """The time of the data's last transaction."""
        return engine.last_timestamp(self.relation(engine))

    def first_timestamp(self, engine) -> pd.Timestamp:
        """The time of the data's first transaction."""
        return engine.first_timestamp(self.relation(engine))

    def months(self, engine, as_of) -> pd.DataFrame:
        """The customer-month table of the windowed histories of `as_of`'s customers."""
        return engine.months(self.relation(engine), as_of)

    def monthly(self, engine, segments: pd.Series) -> pd.DataFrame:
        """The per-segment monthly quartiles of the customers in `segments`."""
        from ..progress import announce

        announce(f"monthly figures of {len(segments):,} customers for the charts")
        return engine.monthly(self.relation(engine), segments)
