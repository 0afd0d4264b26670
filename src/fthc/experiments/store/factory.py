"""Open a store by URL; each backend is imported only when its URL is used."""

from __future__ import annotations

from .base import Store, StoreError, mask_url


def open_store(url: str | None = None) -> Store:
    """`fthc.db` by default; a path or sqlite:///path, postgresql://..., or mongodb://..."""
    url = url or "fthc.db"
    if url.startswith(("postgresql", "postgres://", "sqlite:")) or "://" not in url:
        from .sql import SQLStore

        return SQLStore(url)
    if url.startswith(("mongodb://", "mongodb+srv://", "mongomock://")):
        from .mongo import MongoStore

        return MongoStore(url)
    raise StoreError(f"unsupported store URL {mask_url(url)}; use a file path, sqlite:///..., "
                     "postgresql://... or mongodb://...")
