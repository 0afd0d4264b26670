"""Data layer: readers onto the canonical transaction table, series builder, synthetic Berka."""

from .berka import BerkaData, read_berka, to_transactions
from .errors import DataError, FthcError, ReadReport
from .series import SeriesSet, SeriesSpec, build_series
from .synth import read_ground_truth, write_synthetic_berka
from .source import Source, load_source, load_transactions
from .transactions import ColumnMapping, read_transactions

__all__ = [
    "BerkaData", "ColumnMapping", "Source", "load_source", "DataError", "FthcError", "ReadReport", "SeriesSet", "SeriesSpec",
    "build_series", "load_transactions", "read_berka", "read_ground_truth", "read_transactions",
    "to_transactions", "write_synthetic_berka",
]
