"""Stores of experiment grids: SQLite (default), PostgreSQL, MongoDB, with identical semantics."""

from .base import STATUSES, Run, Store, StoreError, mask_url
from .factory import open_store

__all__ = ["STATUSES", "Run", "Store", "StoreError", "mask_url", "open_store"]
